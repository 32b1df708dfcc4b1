-- snomed_hierarchy: the SNOMED CT is-a hierarchy in force: one row per concept and direct parent.
-- Grain: one row per (concept_id, parent_id): an active is-a relationship, inferred or stated.
-- Key: concept_id, parent_id (a data test checks that no two rows share it)
-- Sources: snomed_relationships (typeId 116680003 |Is a|). The inferred and the stated files
--   both give is-a rows; a pair either gives is one parent link. The evaluator of the SNOMED CT
--   to ICD-10-CM map reads it: a concept without map records maps through its nearest mapped
--   ancestor, and an IFA rule naming a concept holds for its descendants on the problem list.
-- Example: SELECT concept_id, parent_id FROM snomed_hierarchy WHERE concept_id = '12067001';
-- Columns:
--   concept_id: the child concept
--   parent_id: its direct parent (supertype)
--   relationship_id: the relationship that says so (the smallest id when several do)
--   release_id: the release of that relationship's state in force
SELECT
    source_concept AS concept_id,
    destination_concept AS parent_id,
    min(relationship_id) AS relationship_id,
    arg_min(release_id, relationship_id) AS release_id
FROM snomed_relationships
WHERE type_id = '116680003'
GROUP BY source_concept, destination_concept
