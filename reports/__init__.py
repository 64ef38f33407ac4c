"""Reports for people: delivery reports, the operator report, build records, `imw status`."""
