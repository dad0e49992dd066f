// CLI wiring; filled in below.
