"""The studies: one module per kind of study."""
