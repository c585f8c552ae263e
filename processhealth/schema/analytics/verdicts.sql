-- Verdicts and process-experiment results (docs/metrics.md sections 8 and 9), written at build by
-- analysis/verdicts.py and analysis/experiments.py from the metric views. The signals of both kinds
-- of verdict share one table, health_verdict_signals; health_signals and health_change_signals are
-- its old names, kept as views.

CREATE TABLE health_verdicts(
    team VARCHAR NOT NULL,
    month DATE NOT NULL,
    verdict VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    people_count INTEGER NOT NULL,
    baseline_months DATE[],
    baseline_change VARCHAR,
    month_complete BOOLEAN,
    PRIMARY KEY (team, month)
);
COMMENT ON TABLE health_verdicts IS 'One verdict per team-month: amplifier, neutral, process_is_product (process has become the product) or insufficient_data; the signals behind it are in health_verdict_signals (scope team_month).';
COMMENT ON COLUMN health_verdicts.team IS 'Team.';
COMMENT ON COLUMN health_verdicts.month IS 'First day of the month.';
COMMENT ON COLUMN health_verdicts.verdict IS 'One of: `amplifier`, `neutral`, `process_is_product`, `insufficient_data`.';
COMMENT ON COLUMN health_verdicts.reason IS 'In plain words: which rule decided and on what, each change with its 95% interval (or why neither rule holds, why one month is not yet enough, a level restated as the new normal, or why the data is insufficient).';
COMMENT ON COLUMN health_verdicts.people_count IS 'Active people behind the figures; under privacy.min_group_size the verdict is insufficient_data.';
COMMENT ON COLUMN health_verdicts.baseline_months IS 'The months the changes were measured against (metric_overhead.baseline_ratio is their mean overhead ratio).';
COMMENT ON COLUMN health_verdicts.month_complete IS 'True when every enabled source''s last finished `collect` began after the month ended, so the month is whole; false for a month a collection caught only part of (a cron run on the 1st leaves the new month with a few hours; a source whose last run failed leaves the month before it too): leave such rows out, and the report warns when its month is one; NULL (unknown) while an enabled source has no finished `collect` (its first run failed, or its data came from an import).';
COMMENT ON COLUMN health_verdicts.baseline_change IS 'The recorded process change whose start fixed the baseline (the months before it), NULL when the baseline is the trailing months.';

CREATE TABLE health_change_verdicts(
    change VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    verdict VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    people_count INTEGER NOT NULL,
    control_teams VARCHAR[],
    before_from DATE,
    before_to DATE,
    after_from DATE,
    after_to DATE,
    PRIMARY KEY (change, team)
);
COMMENT ON TABLE health_change_verdicts IS 'One verdict per recorded process change and team, from the before/after windows of docs/metrics.md section 8 (difference-in-differences against teams without the change where there are some).';
COMMENT ON COLUMN health_change_verdicts.change IS 'The process change (process_changes.name).';
COMMENT ON COLUMN health_change_verdicts.team IS 'Team it applies to.';
COMMENT ON COLUMN health_change_verdicts.verdict IS 'One of: `amplifier`, `neutral`, `process_is_product`, `insufficient_data`.';
COMMENT ON COLUMN health_change_verdicts.reason IS 'One sentence: which rule decided, or why the data is insufficient.';
COMMENT ON COLUMN health_change_verdicts.people_count IS 'Fewest active team members in any month of the windows.';
COMMENT ON COLUMN health_change_verdicts.control_teams IS 'Teams without a process change in the windows, used for difference-in-differences.';
COMMENT ON COLUMN health_change_verdicts.before_from IS 'First week (Monday) of the before window.';
COMMENT ON COLUMN health_change_verdicts.before_to IS 'Last week (Monday) of the before window.';
COMMENT ON COLUMN health_change_verdicts.after_from IS 'First week (Monday) of the after window (after the ramp).';
COMMENT ON COLUMN health_change_verdicts.after_to IS 'Last week (Monday) of the after window.';

CREATE TABLE health_experiment_results(
    change VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    criterion VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    measure VARCHAR NOT NULL,
    estimate DOUBLE,
    low DOUBLE,
    high DOUBLE,
    op VARCHAR NOT NULL,
    threshold DOUBLE NOT NULL,
    unit VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    before_weeks INTEGER NOT NULL,
    after_weeks INTEGER NOT NULL,
    people_count INTEGER NOT NULL,
    outcome VARCHAR NOT NULL,
    note VARCHAR,
    PRIMARY KEY (change, team, idx)
);
COMMENT ON TABLE health_experiment_results IS 'Each success criterion of each process change, evaluated on weekly series (metric_weekly): met, not_met, inconclusive (the 95% interval straddles the threshold) or insufficient_data (docs/metrics.md section 8).';
COMMENT ON COLUMN health_experiment_results.change IS 'The process change.';
COMMENT ON COLUMN health_experiment_results.team IS 'Team evaluated.';
COMMENT ON COLUMN health_experiment_results.idx IS 'Position of the criterion (experiment_criteria.idx).';
COMMENT ON COLUMN health_experiment_results.criterion IS 'The criterion as written.';
COMMENT ON COLUMN health_experiment_results.metric IS 'The weekly metric it tests (metric_weekly.metric).';
COMMENT ON COLUMN health_experiment_results.measure IS 'change_pp (difference x 100), change_pct (relative change x 100), change (difference) or level (after-window mean).';
COMMENT ON COLUMN health_experiment_results.estimate IS 'The estimate, in the criterion''s unit.';
COMMENT ON COLUMN health_experiment_results.low IS 'Lower end of the 95% circular block-bootstrap interval (2,000 resamples, fixed seed).';
COMMENT ON COLUMN health_experiment_results.high IS 'Upper end of that interval.';
COMMENT ON COLUMN health_experiment_results.op IS 'Comparison: <=, >=, < or >.';
COMMENT ON COLUMN health_experiment_results.threshold IS 'Threshold in the criterion''s unit.';
COMMENT ON COLUMN health_experiment_results.unit IS 'pp, % or empty.';
COMMENT ON COLUMN health_experiment_results.method IS 'One of: `did` (difference-in-differences against control teams), `before_after`, `level`, `none` (a metric with no weekly series: nothing was estimated).';
COMMENT ON COLUMN health_experiment_results.before_weeks IS 'Weekly points in the before window.';
COMMENT ON COLUMN health_experiment_results.after_weeks IS 'Weekly points in the after window.';
COMMENT ON COLUMN health_experiment_results.people_count IS 'Fewest active team members in any month of the windows.';
COMMENT ON COLUMN health_experiment_results.outcome IS 'One of: `met`, `not_met`, `inconclusive`, `insufficient_data`.';
COMMENT ON COLUMN health_experiment_results.note IS 'Why, when the outcome is insufficient_data or the metric is unknown.';

CREATE TABLE health_verdict_signals(
    scope VARCHAR NOT NULL,
    team VARCHAR NOT NULL,
    month DATE,
    change VARCHAR,
    rule VARCHAR NOT NULL,
    signal VARCHAR NOT NULL,
    value DOUBLE,
    low DOUBLE,
    high DOUBLE,
    threshold DOUBLE NOT NULL,
    direction VARCHAR NOT NULL,
    required BOOLEAN NOT NULL,
    met BOOLEAN NOT NULL,
    CHECK ((scope = 'team_month' AND month IS NOT NULL AND change IS NULL)
           OR (scope = 'change' AND change IS NOT NULL AND month IS NULL))
);
COMMENT ON TABLE health_verdict_signals IS 'Every signal of every verdict beside its threshold and direction (docs/metrics.md sections 8 and 9): of each team-month verdict (scope team_month, health_verdicts) and of each process-change verdict (scope change, health_change_verdicts).';
COMMENT ON COLUMN health_verdict_signals.scope IS 'Which verdict the signal belongs to. One of: `team_month` (health_verdicts, by team and month), `change` (health_change_verdicts, by change and team).';
COMMENT ON COLUMN health_verdict_signals.team IS 'Team.';
COMMENT ON COLUMN health_verdict_signals.month IS 'First day of the month (scope team_month; NULL for scope change).';
COMMENT ON COLUMN health_verdict_signals.change IS 'The process change, process_changes.name (scope change; NULL for scope team_month).';
COMMENT ON COLUMN health_verdict_signals.rule IS 'The verdict the signal argues for. One of: `process_is_product`, `amplifier`.';
COMMENT ON COLUMN health_verdict_signals.signal IS 'One of: `overhead_rise_pp`, `customer_throughput_change`, `customer_lead_time_change`, `pr_pickup_change`, `prompted_share_rise_pp`, `process_coupling_change_pp`, `uncoupled_overhead_rise_pp`, `best_performer_engagement`, `delivery_gain_z` (team-months: customer items per person up and pull-request pickup down, pooled, in standard errors; the amplifier rule tests it alone, and its three single-figure changes are shown beside it, `met` as for a process-change verdict).';
COMMENT ON COLUMN health_verdict_signals.value IS 'overhead_rise_pp, prompted_share_rise_pp, process_coupling_change_pp and uncoupled_overhead_rise_pp in percentage points, customer_*_change and pr_pickup_change as a fraction of the baseline (-0.25 = down 25%), best_performer_engagement as a level; NULL when it cannot be computed. Scope team_month: the month (for a verdict given, the last persistence_months months pooled) against its baseline months; scope change: the after window against the before window (difference-in-differences where controls exist).';
COMMENT ON COLUMN health_verdict_signals.low IS 'Lower end of its 95% interval (changes only): scope team_month, from the team''s own month-to-month spread (docs/metrics.md section 9); scope change, a circular block bootstrap over weeks.';
COMMENT ON COLUMN health_verdict_signals.high IS 'Upper end of that interval.';
COMMENT ON COLUMN health_verdict_signals.threshold IS 'Threshold from config [verdict]; for process_is_product''s overhead_rise_pp, 0 when reminded_rise_pp stands in for overhead_rise_pp (the share of process work that followed a reminder naming its author rose that much).';
COMMENT ON COLUMN health_verdict_signals.direction IS 'How value is compared with threshold. One of: `>=`, `<=`, `<`, `>`.';
COMMENT ON COLUMN health_verdict_signals.required IS 'True when the rule needs this signal; the rule also needs at least one of its other signals.';
COMMENT ON COLUMN health_verdict_signals.met IS 'True when value passes the threshold (and, for changes other than the amplifier''s overhead rise and process_is_product''s overhead rise, the interval excludes 0).';

-- Deprecated names, kept readable for queries written against them.
CREATE VIEW health_signals AS
SELECT team, month, rule, signal, value, low, high, threshold, direction, required, met
FROM health_verdict_signals WHERE scope = 'team_month';
COMMENT ON VIEW health_signals IS 'Deprecated, use health_verdict_signals WHERE scope = ''team_month'': every signal of every team-month verdict beside its threshold and direction (docs/metrics.md section 9).';
COMMENT ON COLUMN health_signals.team IS 'Team.';
COMMENT ON COLUMN health_signals.month IS 'First day of the month.';
COMMENT ON COLUMN health_signals.rule IS 'The verdict the signal argues for: process_is_product or amplifier.';
COMMENT ON COLUMN health_signals.signal IS 'As health_verdict_signals.signal.';
COMMENT ON COLUMN health_signals.value IS 'As health_verdict_signals.value.';
COMMENT ON COLUMN health_signals.low IS 'Lower end of its 95% interval (changes only).';
COMMENT ON COLUMN health_signals.high IS 'Upper end of that interval.';
COMMENT ON COLUMN health_signals.threshold IS 'Threshold from config [verdict].';
COMMENT ON COLUMN health_signals.direction IS 'How value is compared with threshold: >=, <=, < or >.';
COMMENT ON COLUMN health_signals.required IS 'True when the rule needs this signal; the rule also needs at least one of its other signals.';
COMMENT ON COLUMN health_signals.met IS 'True when value passes the threshold (and, for changes, the interval excludes 0).';

CREATE VIEW health_change_signals AS
SELECT change, team, rule, signal, value, low, high, threshold, direction, required, met
FROM health_verdict_signals WHERE scope = 'change';
COMMENT ON VIEW health_change_signals IS 'Deprecated, use health_verdict_signals WHERE scope = ''change'': every signal of every process-change verdict beside its threshold and direction.';
COMMENT ON COLUMN health_change_signals.change IS 'The process change.';
COMMENT ON COLUMN health_change_signals.team IS 'Team.';
COMMENT ON COLUMN health_change_signals.rule IS 'The verdict the signal argues for: process_is_product or amplifier.';
COMMENT ON COLUMN health_change_signals.signal IS 'Signal name, as in health_signals.';
COMMENT ON COLUMN health_change_signals.value IS 'After-window level, or the before/after change (difference-in-differences where controls exist), in the units of health_signals.value.';
COMMENT ON COLUMN health_change_signals.low IS 'Lower end of its 95% circular block-bootstrap interval.';
COMMENT ON COLUMN health_change_signals.high IS 'Upper end of that interval.';
COMMENT ON COLUMN health_change_signals.threshold IS 'Threshold from config [verdict].';
COMMENT ON COLUMN health_change_signals.direction IS 'How value is compared with threshold: >=, <=, < or >.';
COMMENT ON COLUMN health_change_signals.required IS 'True when the rule needs this signal; the rule also needs at least one of its other signals.';
COMMENT ON COLUMN health_change_signals.met IS 'True when value passes the threshold (and, for changes, the interval excludes 0).';
