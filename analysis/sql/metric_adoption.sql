-- Adoption of a process change or tool (docs/metrics.md section 7), one row per recorded change and team:
-- the peak of weekly active users in its scope / headcount, the adoption half-life (weeks from the
-- peak until usage first falls below half of it), the organic share of the activity in scope, and
-- best-performer engagement: the adoption rate of the top quartile of people by customer-facing
-- minutes in the 90 days before the change, divided by the rate of everyone else. Below 0.5 the
-- best performers don't see the value — the essay's tell. Adoption rate = share of the weeks of the
-- after window (2 to 14 weeks after the start, as in section 8) in which a person used the scope.
-- Each of the two groups is a figure about its people, so each needs privacy.min_group_size of them:
-- the top group is the top quartile or, when that is fewer, the top min_group_size people, and the
-- rest must be as many; a smaller team gets no engagement figure (engagement_suppressed).
CREATE OR REPLACE VIEW metric_adoption AS
WITH changes AS (
    SELECT name AS change, team AS change_team, started_on FROM process_changes
),
peak AS (
    SELECT change, team, max(active_share) AS peak_share, count(*) AS weeks_observed,
           arg_max(active_share, week) AS latest_share
    FROM metric_adoption_weekly
    GROUP BY change, team
),
peak_week AS (
    SELECT w.change, w.team, min(w.week) AS peak_week
    FROM metric_adoption_weekly AS w JOIN peak AS p USING (change, team)
    WHERE w.active_share = p.peak_share
    GROUP BY w.change, w.team
),
half AS (
    SELECT w.change, w.team, min(w.week) AS below_half_week
    FROM metric_adoption_weekly AS w
    JOIN peak AS p USING (change, team)
    JOIN peak_week AS k USING (change, team)
    WHERE w.week > k.peak_week AND w.active_share < p.peak_share / 2
    GROUP BY w.change, w.team
),
organic AS (
    SELECT s.change, s.team, count(*) FILTER (WHERE s.is_process) AS process_events,
           count(*) FILTER (WHERE s.prompted) AS prompted_events
    FROM metric_scope_events AS s JOIN changes AS c USING (change)
    WHERE s.occurred_at >= c.started_on
    GROUP BY s.change, s.team
),
members AS (  -- who was in the team when the change started
    SELECT c.change, c.started_on, pm.team, pm.person_id
    FROM changes AS c
    JOIN person_months AS pm
        ON (c.change_team IS NULL OR pm.team = c.change_team)
        AND pm.month = date_trunc('month', c.started_on)::DATE AND pm.active
    JOIN people AS p ON p.person_id = pm.person_id AND NOT p.is_bot
),
min_group AS (
    SELECT coalesce((SELECT value::INTEGER FROM build_params
                     WHERE name = 'privacy.min_group_size'), 5) AS n
),
ranked AS (  -- top: the top quartile (ntile's first of 4: ceil(n / 4) people), at least min_group
    SELECT change, team, person_id,
           place <= greatest(ceil(ranked_people / 4), (SELECT n FROM min_group)) AS top
    FROM (
        SELECT m.change, m.team, m.person_id,
               row_number() OVER (PARTITION BY m.change, m.team
                                  ORDER BY coalesce(sum(f.minutes), 0) DESC, m.person_id) AS place,
               count(*) OVER (PARTITION BY m.change, m.team) AS ranked_people
        FROM members AS m
        LEFT JOIN metric_event_human AS f
            ON f.person_id = m.person_id AND f.category = 'customer'
            AND f.occurred_at >= m.started_on - INTERVAL 90 DAY AND f.occurred_at < m.started_on
        GROUP BY m.change, m.team, m.person_id
    )
),
after_weeks AS (
    SELECT w.change, w.team, count(*) AS weeks
    FROM metric_adoption_weekly AS w JOIN changes AS c USING (change)
    WHERE w.week >= c.started_on + INTERVAL 14 DAY AND w.week < c.started_on + INTERVAL 98 DAY
    GROUP BY w.change, w.team
),
usage AS (
    SELECT s.change, s.team, s.person_id, count(DISTINCT s.week) AS weeks_active
    FROM metric_scope_events AS s JOIN changes AS c USING (change)
    WHERE s.week >= c.started_on + INTERVAL 14 DAY AND s.week < c.started_on + INTERVAL 98 DAY
    GROUP BY s.change, s.team, s.person_id
),
rates AS (
    SELECT r.change, r.team,
           avg(coalesce(u.weeks_active, 0) / a.weeks) FILTER (WHERE r.top) AS top_rate,
           avg(coalesce(u.weeks_active, 0) / a.weeks) FILTER (WHERE NOT r.top) AS rest_rate,
           count(*) FILTER (WHERE r.top) AS top_people,
           count(*) AS people_ranked,
           count(*) FILTER (WHERE NOT r.top) < (SELECT n FROM min_group) AS engagement_suppressed
    FROM ranked AS r
    JOIN after_weeks AS a USING (change, team)
    LEFT JOIN usage AS u USING (change, team, person_id)
    GROUP BY r.change, r.team
)
SELECT p.change, p.team, c.started_on, p.weeks_observed, p.peak_share, k.peak_week,
       (h.below_half_week - k.peak_week) // 7 AS half_life_weeks,
       p.latest_share,
       1 - o.prompted_events / nullif(o.process_events, 0) AS organic_share,
       CASE WHEN NOT r.engagement_suppressed THEN r.top_rate END AS top_quartile_rate,
       CASE WHEN NOT r.engagement_suppressed THEN r.rest_rate END AS rest_rate,
       CASE WHEN NOT r.engagement_suppressed THEN r.top_rate / nullif(r.rest_rate, 0) END
           AS best_performer_engagement,
       r.top_people, r.people_ranked AS people_count,
       coalesce(r.people_ranked, 0) < (SELECT n FROM min_group) AS suppressed,
       coalesce(r.engagement_suppressed, true) AS engagement_suppressed
FROM peak AS p
JOIN changes AS c USING (change)
LEFT JOIN peak_week AS k USING (change, team)
LEFT JOIN half AS h USING (change, team)
LEFT JOIN organic AS o USING (change, team)
LEFT JOIN rates AS r USING (change, team);
COMMENT ON VIEW metric_adoption IS 'Adoption per process change and team: peak weekly active share, half-life, organic share and best-performer engagement (docs/metrics.md section 7).';
COMMENT ON COLUMN metric_adoption.change IS 'The process change (process_changes.name).';
COMMENT ON COLUMN metric_adoption.team IS 'Team.';
COMMENT ON COLUMN metric_adoption.started_on IS 'When the change started.';
COMMENT ON COLUMN metric_adoption.weeks_observed IS 'Complete weeks observed since the start.';
COMMENT ON COLUMN metric_adoption.peak_share IS 'Highest weekly active users in scope / headcount.';
COMMENT ON COLUMN metric_adoption.peak_week IS 'First week (Monday) at the peak.';
COMMENT ON COLUMN metric_adoption.half_life_weeks IS 'Weeks from the peak until the share first fell below half the peak; NULL if it has not.';
COMMENT ON COLUMN metric_adoption.latest_share IS 'Weekly active share in the last complete week.';
COMMENT ON COLUMN metric_adoption.organic_share IS 'Share of process events in scope since the start not made within 24 h after a reminder that reached the author.';
COMMENT ON COLUMN metric_adoption.top_quartile_rate IS 'Adoption rate of the top group by customer-facing minutes in the 90 days before (the top quartile, or the top privacy.min_group_size people when the quartile is fewer): mean share of after-window weeks with activity in scope. NULL when engagement_suppressed.';
COMMENT ON COLUMN metric_adoption.rest_rate IS 'The same rate for the rest of the team; NULL when engagement_suppressed.';
COMMENT ON COLUMN metric_adoption.best_performer_engagement IS 'top_quartile_rate / rest_rate; below 0.5 is a warning. NULL when engagement_suppressed.';
COMMENT ON COLUMN metric_adoption.top_people IS 'People in the top group (the top quartile, at least privacy.min_group_size).';
COMMENT ON COLUMN metric_adoption.people_count IS 'Team members at the start who were ranked.';
COMMENT ON COLUMN metric_adoption.suppressed IS 'True when people_count is below privacy.min_group_size.';
COMMENT ON COLUMN metric_adoption.engagement_suppressed IS 'True when the rest of the team (people_count less top_people) is below privacy.min_group_size, or nobody was ranked: the two group rates would rest on too few people, so they and best_performer_engagement are NULL (a team needs twice min_group_size people, 10 by default).';
