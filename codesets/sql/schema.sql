-- Base tables of a codesets warehouse generation. Views in views/ read only these.
-- Every row carries its provenance: the release it belongs to, the file and line it came from.

CREATE TABLE IF NOT EXISTS release_catalog (
    source              VARCHAR   NOT NULL,  -- loader that read the files, e.g. 'gems'
    release_id          VARCHAR   NOT NULL,  -- e.g. '2018', '2026Q4', 'FY2026'
    effective_from      DATE      NOT NULL,  -- first date of service the release applies to
    loaded_at           TIMESTAMP NOT NULL,  -- UTC
    row_count           BIGINT    NOT NULL,
    content_sha256      VARCHAR   NOT NULL,  -- sha256 over the sorted file digests: identity of the content
    loader_version      VARCHAR   NOT NULL,
    previous_release_id VARCHAR,             -- the release of the same source this one follows
    rows_added          BIGINT,              -- against previous_release_id
    rows_removed        BIGINT,
    files STRUCT(name VARCHAR, sha256 VARCHAR, bytes BIGINT, rows BIGINT, kind VARCHAR, line_ending VARCHAR)[] NOT NULL,
    PRIMARY KEY (source, release_id)
);

-- Shared shape for code-to-code maps with CMS GEM attributes.
CREATE TABLE IF NOT EXISTS maps (
    source        VARCHAR  NOT NULL,
    release_id    VARCHAR  NOT NULL,
    source_system VARCHAR  NOT NULL,  -- icd9cm, icd10cm, icd9pcs, icd10pcs
    target_system VARCHAR  NOT NULL,
    source_code   VARCHAR  NOT NULL,  -- canonical: undotted, upper case
    target_code   VARCHAR,            -- NULL for a no-map row
    flags         VARCHAR  NOT NULL,  -- the five flag digits exactly as in the file
    approximate   BOOLEAN  NOT NULL,
    no_map        BOOLEAN  NOT NULL,
    combination   BOOLEAN  NOT NULL,  -- the combination flag as published
    scenario      UTINYINT NOT NULL,
    choice_list   UTINYINT NOT NULL,
    source_file   VARCHAR  NOT NULL,
    line_no       INTEGER  NOT NULL
);
