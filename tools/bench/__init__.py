"""`make bench`: benchmarks that print figures. They never pass or fail; CI does not run them."""
