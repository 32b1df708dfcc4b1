-- The catalog of a warehouse generation: small tables, written whole at every publish.
-- The data itself lives in immutable Parquet files under PATH/data/; the views maps, codes,
-- edits and limits (written by codesets.warehouse.storage) read the files this catalog lists.

CREATE TABLE IF NOT EXISTS warehouse_meta (
    format      INTEGER   NOT NULL,  -- layout version of the warehouse
    root        VARCHAR   NOT NULL,  -- absolute path the views' data files were written under
    generation  INTEGER   NOT NULL,
    written_at  TIMESTAMP NOT NULL,  -- UTC
    written_by  VARCHAR   NOT NULL   -- codesets version
);

-- One row per part of a release: a release is the set of its parts, and a part, once
-- published, never changes. Windows, lineage and diffs are derived in views (release_parts).
CREATE TABLE IF NOT EXISTS release_catalog (
    source          VARCHAR   NOT NULL,  -- loader that read the files, e.g. 'gems'
    release_id      VARCHAR   NOT NULL,  -- e.g. '2018', 'v322r0', 'FY2026'
    part            VARCHAR   NOT NULL,  -- e.g. 'icd9cm-icd10cm'; what CMS ships separately
    effective_from  DATE      NOT NULL,  -- first date of service the release applies to
    is_sample       BOOLEAN   NOT NULL,  -- a bundled hand-made sample: never real history
    loaded_at       TIMESTAMP NOT NULL,  -- UTC
    loader_version  VARCHAR   NOT NULL,
    row_count       BIGINT    NOT NULL,
    content_sha256  VARCHAR   NOT NULL,  -- sha256 over the sorted file digests of the part
    files STRUCT(name VARCHAR, sha256 VARCHAR, bytes BIGINT, rows BIGINT, kind VARCHAR, line_ending VARCHAR)[] NOT NULL,
    data_files STRUCT("table" VARCHAR, path VARCHAR, rows BIGINT)[] NOT NULL,  -- relative to the root
    PRIMARY KEY (source, release_id, part)
);
