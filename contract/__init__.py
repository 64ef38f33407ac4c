"""The extract contract (`spec`, the one definition) and the files generated from it (`codegen`)."""
