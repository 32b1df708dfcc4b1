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

-- What each discovered source declares (codesets.loaders.contract.Declaration), written whole at
-- every publish from the loaders, so the views need no list of sources: release_parts reads
-- whole_release and the period rules, and a source no loader declares any more gets the defaults
-- (each part its own series, open until the next release of the part).
CREATE TABLE IF NOT EXISTS source_declarations (
    source         VARCHAR   NOT NULL PRIMARY KEY,
    whole_release  BOOLEAN   NOT NULL,  -- a release is a whole list: the next release replaces all its parts
    diff_view      VARCHAR,             -- the change view `codesets diff` runs; NULL when not compared
    tables         VARCHAR[] NOT NULL   -- the shared tables the source fills
);

-- The code systems a source's rows carry, and which of them its releases answer validity for.
CREATE TABLE IF NOT EXISTS source_code_systems (
    source       VARCHAR NOT NULL,
    code_system  VARCHAR NOT NULL,  -- e.g. 'icd10cm', 'hcpcs_modifier'
    validity     BOOLEAN NOT NULL,  -- the source's release in force answers whether a code is valid
    pattern      VARCHAR,           -- shape of a canonical code (a whole-string regular expression)
    PRIMARY KEY (source, code_system)
);

-- How a release of a source ends on its own: the first rule (by rule_no) whose release_ids
-- matches the release id applies; a release no rule matches stays open until the next one.
CREATE TABLE IF NOT EXISTS source_periods (
    source       VARCHAR NOT NULL,
    rule_no      INTEGER NOT NULL,
    kind         VARCHAR NOT NULL,  -- 'fiscal_year' (ends YYYY-09-30), 'calendar_year' (YYYY-12-31),
                                    -- 'quarter' (YYYY-MM: three months after its first day, less a day)
    release_ids  VARCHAR NOT NULL,  -- anchored regular expression the release id matches, e.g. '^(?:(19|20)[0-9]{2})$'
    PRIMARY KEY (source, rule_no)
);

-- Parts that render one list (the ICD-10 order file, tabular XML and code file), richest first:
-- when a release has several, code_releases lets the first answer.
CREATE TABLE IF NOT EXISTS source_renderings (
    source     VARCHAR NOT NULL,
    part       VARCHAR NOT NULL,
    rendering  INTEGER NOT NULL,  -- 1 for the richest
    PRIMARY KEY (source, part)
);
