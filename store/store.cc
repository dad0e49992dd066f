// Filled in by the store implementation.
