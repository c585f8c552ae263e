-- event_seq in event_id order. The sequence numbers rows as they are inserted, and DuckDB's
-- parallel INSERT ... SELECT inserts in no fixed order, so two builds of the same raw store
-- numbered the same events differently (effort and every table keyed on event_seq differed
-- between them). Renumbered here, after the last normalization file and before the analysis
-- reads it, the same events get the same numbers in every build. Joined on rowid: an integer.
UPDATE events SET event_seq = s.n
FROM (SELECT rowid AS rid, row_number() OVER (ORDER BY event_id) AS n FROM events) AS s
WHERE events.rowid = s.rid;
