-- The world schema: GeoNames countries and cities, and the state of the last load.
-- Names keep their accents and case (utf8mb4_bin); the search API folds text itself.
-- Every statement is idempotent, so applying the schema twice changes nothing.
-- No foreign keys: the loader swaps whole tables in with RENAME TABLE, and it
-- checks every city's country itself before anything is served.

CREATE TABLE IF NOT EXISTS countries (
    iso CHAR(2) NOT NULL,
    iso3 CHAR(3) NOT NULL,
    iso_numeric SMALLINT UNSIGNED NULL,
    fips VARCHAR(4) NOT NULL DEFAULT '',
    name VARCHAR(200) NOT NULL,
    capital VARCHAR(200) NOT NULL DEFAULT '',
    area_km2 DOUBLE NULL,
    population BIGINT UNSIGNED NOT NULL DEFAULT 0,
    continent CHAR(2) NOT NULL,
    tld VARCHAR(10) NOT NULL DEFAULT '',
    currency_code CHAR(3) NOT NULL DEFAULT '',
    currency_name VARCHAR(50) NOT NULL DEFAULT '',
    phone VARCHAR(30) NOT NULL DEFAULT '',
    languages VARCHAR(200) NOT NULL DEFAULT '',
    geonameid INT UNSIGNED NULL,
    neighbours VARCHAR(200) NOT NULL DEFAULT '',
    PRIMARY KEY (iso)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS cities (
    geonameid INT UNSIGNED NOT NULL,
    name VARCHAR(200) NOT NULL,
    asciiname VARCHAR(200) NOT NULL DEFAULT '',
    alternatenames MEDIUMTEXT NOT NULL,
    latitude DECIMAL(10, 5) NOT NULL,
    longitude DECIMAL(10, 5) NOT NULL,
    country_code CHAR(2) NOT NULL,
    population BIGINT UNSIGNED NOT NULL DEFAULT 0,
    timezone VARCHAR(40) NOT NULL DEFAULT '',
    admin1_code VARCHAR(20) NOT NULL DEFAULT '',
    PRIMARY KEY (geonameid),
    KEY cities_country (country_code),
    KEY cities_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row (id = 1) describing the data being served. The loader builds a new
-- row beside the new data and swaps it in with the tables, so it never lies.
-- status: empty (never loaded), loading (first load running), loaded, failed
-- (first load failed). A failed reload keeps 'loaded' and sets last_error.
CREATE TABLE IF NOT EXISTS load_state (
    id TINYINT UNSIGNED NOT NULL,
    status VARCHAR(16) NOT NULL,
    countries INT UNSIGNED NOT NULL DEFAULT 0,
    cities INT UNSIGNED NOT NULL DEFAULT 0,
    source VARCHAR(1000) NOT NULL DEFAULT '',
    loaded_at DATETIME(6) NULL,
    duration_ms INT UNSIGNED NULL,
    attempted_at DATETIME(6) NULL,
    last_error TEXT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO load_state (id, status) VALUES (1, 'empty') ON DUPLICATE KEY UPDATE id = id;
