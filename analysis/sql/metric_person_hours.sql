-- Credited hours per person, team-month and category, for the report's per-person table, which
-- only privacy.show_people = true shows (teams decide whether their members see it).
CREATE OR REPLACE VIEW metric_person_hours AS
SELECT f.team, f.month, f.person_id, p.display_name, f.category, sum(f.minutes) / 60 AS hours
FROM metric_event_human AS f
JOIN people AS p USING (person_id)
GROUP BY f.team, f.month, f.person_id, p.display_name, f.category;
COMMENT ON VIEW metric_person_hours IS 'Credited hours per person, team-month and category (the report shows them only with privacy.show_people = true).';
COMMENT ON COLUMN metric_person_hours.team IS 'Team the person belonged to that month.';
COMMENT ON COLUMN metric_person_hours.month IS 'First day of the month.';
COMMENT ON COLUMN metric_person_hours.person_id IS 'The person (people.person_id).';
COMMENT ON COLUMN metric_person_hours.display_name IS 'Name shown in reports (a pseudonym when privacy.pseudonymize is on).';
COMMENT ON COLUMN metric_person_hours.category IS 'customer, enabling, process or unclassified; NULL when no rule classified the events.';
COMMENT ON COLUMN metric_person_hours.hours IS 'Credited hours.';
