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
    target_system   VARCHAR  NOT NULL,  -- code system mapped to
    source_code     VARCHAR  NOT NULL,  -- canonical: undotted, upper case
    target_code     VARCHAR,            -- NULL when the source code has no target
    flags           VARCHAR,            -- GEM: the five flag digits exactly as in the file
    approximate     BOOLEAN,  -- GEM flag 1: not an exact equivalent
    no_map          BOOLEAN,  -- GEM flag 2, or a NoDx/NoPCS/NoI9 target: no target
    combination     BOOLEAN,            -- GEM: the combination flag as published
    scenario        UTINYINT,  -- GEM flag 4: combination scenario (0 for none)
    choice_list     UTINYINT,  -- GEM flag 5: choice list of the scenario (0 for none)
    map_group       UTINYINT,           -- SNOMED CT map: group, priority, rule, advice, category
    map_priority    UTINYINT,  -- SNOMED CT map priority within the group
    map_rule        VARCHAR,  -- SNOMED CT map rule text
    map_advice      VARCHAR,  -- SNOMED CT map advice text
    map_category_id VARCHAR,  -- SNOMED CT map category concept id
    record_id       VARCHAR,  -- SNOMED CT map: the RF2 member id (a UUID), the same record across its states
    effective_time  DATE,     -- SNOMED CT map: effectiveTime of this state of the record
    active          BOOLEAN,  -- SNOMED CT map: the record is active in this state
    module_id       VARCHAR,  -- SNOMED CT map: the module concept id of this state
    correlation_id  VARCHAR,  -- SNOMED CT map: correlation concept id
    target_incomplete BOOLEAN,  -- SNOMED CT map: the target ends in '?', a 7th character (episode of care) to choose
    source_file     VARCHAR  NOT NULL,  -- file the row came from
    line_no         INTEGER  NOT NULL  -- line of source_file
);

-- relationships: SNOMED CT relationships (RF2 relationship files): every state of every relationship loaded; the is-a ones (typeId 116680003) make the hierarchy.
CREATE TABLE relationships (
    source                 VARCHAR NOT NULL,  -- loader that read the file, e.g. 'snomed_icd10cm'
    release_id             VARCHAR NOT NULL,  -- release the row belongs to
    part                   VARCHAR NOT NULL,  -- part of the release: relationship (inferred) or stated_relationship
    relationship_id        VARCHAR NOT NULL,  -- the RF2 relationship id, the same relationship across its states
    effective_time         DATE    NOT NULL,  -- effectiveTime of this state
    active                 BOOLEAN NOT NULL,  -- the relationship is active in this state
    module_id              VARCHAR NOT NULL,  -- module concept id of this state
    source_concept         VARCHAR NOT NULL,  -- sourceId: the concept the relationship is about (the child of an is-a)
    destination_concept    VARCHAR NOT NULL,  -- destinationId: the concept it points at (the parent of an is-a)
    relationship_group     INTEGER NOT NULL,  -- relationshipGroup (0 for an is-a)
    type_id                VARCHAR NOT NULL,  -- typeId: 116680003 is-a, else an attribute such as 363698007 finding site
    characteristic_type_id VARCHAR NOT NULL,  -- 900000000000011006 inferred, 900000000000010007 stated, ...
    modifier_id            VARCHAR NOT NULL,  -- modifierId (900000000000451002 existential)
    source_file            VARCHAR NOT NULL,  -- file the row came from
    line_no                INTEGER NOT NULL  -- line of source_file
);

-- descriptions: SNOMED CT descriptions (RF2 description files): every state of every description loaded; a concept's active fully specified name is its name here.
CREATE TABLE descriptions (
    source               VARCHAR NOT NULL,  -- loader that read the file, e.g. 'snomed_icd10cm'
    release_id           VARCHAR NOT NULL,  -- release the row belongs to
    part                 VARCHAR NOT NULL,  -- part of the release: description
    description_id       VARCHAR NOT NULL,  -- the RF2 description id, the same description across its states
    effective_time       DATE    NOT NULL,  -- effectiveTime of this state
    active               BOOLEAN NOT NULL,  -- the description is active in this state
    module_id            VARCHAR NOT NULL,  -- module concept id of this state
    concept_id           VARCHAR NOT NULL,  -- the concept described
    language_code        VARCHAR NOT NULL,  -- e.g. en
    type_id              VARCHAR NOT NULL,  -- 900000000000003001 fully specified name, 900000000000013009 synonym
    term                 VARCHAR NOT NULL,  -- the text (UTF-8)
    case_significance_id VARCHAR NOT NULL,  -- caseSignificanceId
    source_file          VARCHAR NOT NULL,  -- file the row came from
    line_no              INTEGER NOT NULL  -- line of source_file
);

-- code_rows: code lists with titles and validity (ICD-10-CM/PCS, HCPCS, ICD-9-CM, CPT). One row per code
-- (and per header) a release lists; the window a code is valid in comes from its release (release_parts)
-- narrowed by the code's own dates where the file gives them (HCPCS add and termination dates).
CREATE TABLE code_rows (
    source            VARCHAR NOT NULL,  -- loader that read the file, e.g. 'gems'
    release_id        VARCHAR NOT NULL,  -- release the row belongs to
    part              VARCHAR NOT NULL,  -- part of the release, e.g. order (an ICD-10-CM order file) or diagnoses
    code_system       VARCHAR NOT NULL,  -- icd10cm, icd10pcs, hcpcs, hcpcs_modifier, icd9cm, icd9pcs, cpt
    code              VARCHAR NOT NULL,  -- canonical: undotted, upper case
    description       VARCHAR,  -- long title
    short_description VARCHAR,  -- short title
    billable          BOOLEAN,  -- valid for billing (ICD-10-CM/PCS: false for a header)
    effective_from    DATE,              -- first date the file dates the code itself (HCPCS add date); NULL: the release's
    effective_to      DATE,              -- last date the file dates the code itself (HCPCS termination date); NULL: the release's
    action_code       VARCHAR,  -- HCPCS action code (A add, C change, D discontinue, N no change, ...)
    action_effective_date DATE,  -- HCPCS: when the action took effect
    source_file       VARCHAR NOT NULL,  -- file the row came from
    line_no           INTEGER NOT NULL  -- line of source_file
);

-- edits: pairs of codes that conflict (NCCI procedure-to-procedure edits), stored cumulatively: each release holds the rows it published first, and row_runs says which rows make each release (view edits_published).
CREATE TABLE edits (
    source             VARCHAR NOT NULL,  -- loader that read the file, e.g. 'gems'
    release_id         VARCHAR NOT NULL,  -- release the row belongs to
    part               VARCHAR NOT NULL,  -- part of the release, e.g. icd9cm-icd10cm (a GEM direction) or practitioner
    setting            VARCHAR NOT NULL,  -- practitioner, outpatient_hospital
    column1_code       VARCHAR NOT NULL,  -- column 1 (comprehensive) code
    column2_code       VARCHAR NOT NULL,  -- column 2 (component) code
    prior_1996         BOOLEAN,           -- '*' in the file: the edit existed before 1996
    effective_date     DATE    NOT NULL,  -- first date of service the edit applies to
    deletion_date      DATE,              -- NULL for '*' (not deleted)
    modifier_indicator VARCHAR NOT NULL,  -- 0, 1 or 9
    rationale          VARCHAR,  -- CMS rationale text
    source_file        VARCHAR NOT NULL,  -- file the row came from
    line_no            INTEGER NOT NULL  -- line of source_file
);

-- limits: units per code and date of service (NCCI medically unlikely edits).
CREATE TABLE limits (
    source       VARCHAR NOT NULL,  -- loader that read the file, e.g. 'gems'
    release_id   VARCHAR NOT NULL,  -- release the row belongs to
    part         VARCHAR NOT NULL,  -- part of the release, e.g. icd9cm-icd10cm (a GEM direction) or practitioner
    service_type VARCHAR NOT NULL,  -- practitioner, outpatient_hospital, dme
    code         VARCHAR NOT NULL,  -- canonical code
    mue_value    INTEGER NOT NULL,  -- most units of service allowed
    mai          UTINYINT,          -- MUE adjudication indicator 1, 2 or 3
    mai_text     VARCHAR,  -- the indicator as the file states it, e.g. '2 Date of Service Edit: Policy'
    rationale    VARCHAR,  -- CMS rationale text
    source_file  VARCHAR NOT NULL,  -- file the row came from
    line_no      INTEGER NOT NULL  -- line of source_file
);

-- row_runs: which lines make each release of a cumulative shape (edits): runs of consecutive lines, each pointing at the lines of the release that first published those rows.
CREATE TABLE row_runs (
    source             VARCHAR NOT NULL,  -- loader that read the files
    release_id         VARCHAR NOT NULL,  -- the release the run belongs to
    part               VARCHAR NOT NULL,  -- part of the release, e.g. practitioner
    source_file        VARCHAR NOT NULL,  -- file of this release the lines are in
    first_line         INTEGER NOT NULL,  -- first line of the run in source_file
    line_count         INTEGER NOT NULL,  -- consecutive lines in the run
    origin_release_id  VARCHAR NOT NULL,  -- release that first published these rows (may be this one)
    origin_source_file VARCHAR NOT NULL,  -- its file
    origin_first_line  INTEGER NOT NULL  -- line of origin_source_file holding the run's first row
);
