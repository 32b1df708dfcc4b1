-- The shared staging shapes. Every loader lands its rows in one or more of these, by column
-- name (codesets.warehouse.publish); each part of a release becomes one Parquet file per shape
-- under PATH/data/<shape>/<source>/<release_id>/, and the view of the same name reads them all.
-- Provenance rides on every row: source, release_id, part, source_file, line_no.
-- A column a loader does not fill is NULL. Types here are the types every reader sees.

-- maps: code-to-code maps. GEMs fill the flag columns; the SNOMED CT map fills the map_* ones.
CREATE TABLE maps (
    source          VARCHAR  NOT NULL,  -- loader, e.g. 'gems'
    release_id      VARCHAR  NOT NULL,  -- e.g. '2018'
    part            VARCHAR  NOT NULL,  -- e.g. 'icd9cm-icd10cm' (a GEM direction)
    source_system   VARCHAR  NOT NULL,  -- icd9cm, icd10cm, icd9pcs, icd10pcs, snomedct
    target_system   VARCHAR  NOT NULL,
    source_code     VARCHAR  NOT NULL,  -- canonical: undotted, upper case
    target_code     VARCHAR,            -- NULL when the source code has no target
    flags           VARCHAR,            -- GEM: the five flag digits exactly as in the file
    approximate     BOOLEAN,
    no_map          BOOLEAN,
    combination     BOOLEAN,            -- GEM: the combination flag as published
    scenario        UTINYINT,
    choice_list     UTINYINT,
    map_group       UTINYINT,           -- SNOMED CT map: group, priority, rule, advice, category
    map_priority    UTINYINT,
    map_rule        VARCHAR,
    map_advice      VARCHAR,
    map_category_id VARCHAR,
    source_file     VARCHAR  NOT NULL,
    line_no         INTEGER  NOT NULL
);

-- codes: code lists with titles and validity (ICD-10-CM/PCS, HCPCS, ICD-9-CM, CPT).
CREATE TABLE codes (
    source            VARCHAR NOT NULL,
    release_id        VARCHAR NOT NULL,
    part              VARCHAR NOT NULL,
    code_system       VARCHAR NOT NULL,
    code              VARCHAR NOT NULL,  -- canonical: undotted, upper case
    description       VARCHAR,
    short_description VARCHAR,
    billable          BOOLEAN,
    effective_from    DATE,              -- when the file dates the code itself (HCPCS add date)
    effective_to      DATE,              -- HCPCS termination date
    action_code       VARCHAR,
    source_file       VARCHAR NOT NULL,
    line_no           INTEGER NOT NULL
);

-- edits: pairs of codes that conflict (NCCI procedure-to-procedure edits).
CREATE TABLE edits (
    source             VARCHAR NOT NULL,
    release_id         VARCHAR NOT NULL,
    part               VARCHAR NOT NULL,
    setting            VARCHAR NOT NULL,  -- practitioner, outpatient_hospital
    column1_code       VARCHAR NOT NULL,
    column2_code       VARCHAR NOT NULL,
    effective_date     DATE    NOT NULL,
    deletion_date      DATE,              -- NULL for '*' (not deleted)
    modifier_indicator VARCHAR NOT NULL,  -- 0, 1 or 9
    rationale          VARCHAR,
    source_file        VARCHAR NOT NULL,
    line_no            INTEGER NOT NULL
);

-- limits: units per code and date of service (NCCI medically unlikely edits).
CREATE TABLE limits (
    source       VARCHAR NOT NULL,
    release_id   VARCHAR NOT NULL,
    part         VARCHAR NOT NULL,
    service_type VARCHAR NOT NULL,  -- practitioner, outpatient_hospital, dme
    code         VARCHAR NOT NULL,
    mue_value    INTEGER NOT NULL,
    mai          UTINYINT,          -- MUE adjudication indicator 1, 2 or 3
    rationale    VARCHAR,
    source_file  VARCHAR NOT NULL,
    line_no      INTEGER NOT NULL
);
