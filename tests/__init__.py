"""newsmon's tests; the folders mirror the packages of newsmon/ (and flows/)."""
