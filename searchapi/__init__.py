"""The world search API: GET /cities?q= over MariaDB, and the GeoNames loader."""
