-- snomed_utf8: the macro snomed_utf8(text) that reads a field read as Latin-1 as the UTF-8 it is.
-- Latin-1 maps each byte to the character of the same number, so the bytes come back from the
-- characters' numbers; an ASCII field (nearly all) is returned as it is, without that work.
-- NULL when the bytes are not UTF-8.
CREATE OR REPLACE TEMP MACRO snomed_utf8(text) AS
    CASE
        WHEN text IS NULL OR strlen(text) = length(text) THEN text
        ELSE try(decode(from_hex(array_to_string(
            list_transform(string_split(text, ''), lambda c: printf('%02X', unicode(c))), ''))))
    END
