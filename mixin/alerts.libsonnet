local text = import 'lib/text.libsonnet';

{
  local cfg = $._config,
  // cfg with its numbers in their shortest form, for "%(field)s" % num.
  local num = text.numbers(cfg),
  local withRunbook(r) = r { annotations+: { runbook_url: cfg.runbookURLPattern % r.alert } },

  prometheusAlerts+:: {
    // A misspelt alert name in _config.alertFor would silently change
    // nothing: refuse it.
    local unknownFor = std.setDiff(std.set(std.objectFields(cfg.alertFor)), std.set([r.alert for g in self.groups for r in g.rules])),
    assert unknownFor == [] : '_config.alertFor names no alert of the mixin: ' + std.join(', ', unknownFor),

    comment:: |||
      Alerting rules for dyvms_exporter (monitoring-mixin style).

      Every alert carries:
        severity:  critical (act now), warning (act today), info (worth knowing)
        component: exporter (the exporter or the API in front of it) or
                   callcentre (what the dialling tasks and agents do)
      and annotations summary (static), description (templated) and runbook_url
      (its runbook, docs/runbooks/<alert name>.md in the repository).

      Missing data never fires an alert: a task whose CloudMonitorTask call
      failed exports only dyvms_task_scrape_success 0 (and its duration), so every
      call-centre expression below is built from instant selectors joined with
      "and"/arithmetic: no absent(), no "or vector(0)", no "unless" against a
      series that may be missing. A failed task drops out of the result and its
      pending alerts reset; DyvmsTaskScrapeFailing reports the failure instead.

      The alerts are self-contained (they do not need dyvms.rules.yml loaded);
      the formulas are the ones of the recording rules, with the volume guard
      folded into the denominator filter. Except the queue alerts
      (DyvmsQueueServiceLevelLow, DyvmsQueueAbandonedHigh), which read the
      dyvms.inbound recording rules: the service level joins each queue's
      threshold with its answer-wait bucket in 15 branches, too long to
      repeat. Load both files (the chart and the ARMS forms do).
    |||,
    groups+: [
      g { rules: std.map(withRunbook, g.rules) }
      for g in [
        {
          name: 'dyvms.exporter',
          rules: [
            {
              comment:: |||
                One alert per exporter (job, instance), however it is scraped. With
                /metrics an exporter is one target; with the sharded /sd + /probe
                setup every task is its own target, and all of them share job and
                instance (the exporter's address) and differ by enterprise_id and
                task_id. Aggregating keeps an exporter that is down from raising one
                alert per task; the value is the number of targets down, and
                targets_down says whether that is all of the exporter's targets
                ("all": the exporter is down or unreachable; always the case with
                /metrics) or only some ("some": those tasks' probes fail, typically
                by timing out, while the exporter answers the others). Only "all"
                mutes the exporter's other alerts in the example Alertmanager
                configuration: one slow task must not silence every task's alerts.

                The job selector: %(dyvmsSelector)s (in this alert and the next,
                always written exactly so) must match the job names you scrape the
                exporter as, or these alerts never fire. To watch other names, set
                dyvmsSelector in the mixin's _config, or replace every occurrence in
                dyvms.alerts.yml at once:
                sed -i 's/job=~"dyvms\.\*"/job=~"your_jobs.*"/g' dyvms.alerts.yml
                The Helm chart does the same from its jobSelector value.
              ||| % num,
              alert: 'DyvmsExporterDown',
              expr: |||
                label_replace(
                  count by (job, instance) (up{%(dyvmsSelector)s} == 0)
                    and on (job, instance)
                  (max by (job, instance) (up{%(dyvmsSelector)s}) == 0),
                  "targets_down", "all", "", "")
                or on (job, instance)
                label_replace(
                  count by (job, instance) (up{%(dyvmsSelector)s} == 0),
                  "targets_down", "some", "", "")
              ||| % num,
              'for': cfg.alertFor.DyvmsExporterDown,
              labels: {
                severity: 'critical',
                component: 'exporter',
              },
              annotations: {
                summary: 'dyvms_exporter cannot be scraped.',
                description: '{{ if eq $labels.targets_down "all" }}Prometheus has not been able to scrape job {{ $labels.job }} at {{ $labels.instance }} for %(for)s ({{ $value }} target(s), all of them: one with /metrics, one per task with /probe): no task behind it is monitored.{{ else }}Prometheus has not been able to scrape {{ $value }} of the targets of job {{ $labels.job }} at {{ $labels.instance }} for %(for)s while it scrapes the others (with /probe, one target per task): those tasks are not monitored; up{job="{{ $labels.job }}"} == 0 names them.{{ end }}' % { 'for': text.duration(cfg.alertFor.DyvmsExporterDown) },
            },
          },
          {
            comment:: |||
              No target of the exporter's jobs exists at all: service discovery
              does not find it (the pod, the ServiceMonitor or the scrape
              configuration is gone, or its labels changed) or Prometheus does not
              scrape it any more. DyvmsExporterDown cannot fire then: it needs
              up series, and there are none, nor any dyvms_* series, so every
              other alert is silent too. absent() has no job or instance to name;
              the alert carries the selector instead.
            |||,
            alert: 'DyvmsExporterAbsent',
            expr: |||
              absent(up{%(dyvmsSelector)s})
            ||| % num,
            'for': cfg.alertFor.DyvmsExporterAbsent,
            labels: {
              severity: 'critical',
              component: 'exporter',
            },
            annotations: {
              summary: 'Prometheus has no dyvms_exporter target to scrape.',
              description: 'No target matching up{%(sel)s} has existed for %(for)s: service discovery does not find dyvms_exporter, or Prometheus no longer scrapes it, so no call-centre task is monitored and no other dyvms alert can fire.' % { sel: cfg.dyvmsSelector, 'for': text.duration(cfg.alertFor.DyvmsExporterAbsent) },
              },
            },
            {
              alert: 'DyvmsTaskScrapeFailing',
              expr: 'dyvms_task_scrape_success == 0',
              'for': cfg.alertFor.DyvmsTaskScrapeFailing,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'CloudMonitorTask keeps failing for a task.',
                description: 'The exporter {{ $labels.instance }} has not been able to read task {{ $labels.task_id }} of enterprise {{ $labels.enterprise_id }} from the API for %s (scrape_success = {{ $value }}). The task exports no call-centre metrics meanwhile, so its call-centre alerts cannot fire.' % text.duration(cfg.alertFor.DyvmsTaskScrapeFailing),
              },
            },
            {
              comment:: |||
                Throttled answers (dyvms_api_throttled_total: Throttling*,
                isv.BUSINESS_LIMIT_CONTROL, HTTP 429, as the pacer classifies them)
                per HTTP request sent (dyvms_api_requests_total, retries included).
                The throttled counter exists from start-up at 0, so the first
                throttled answer counts too.
              |||,
              alert: 'DyvmsApiThrottled',
              expr: |||
                sum by (job, instance, account) (rate(dyvms_api_throttled_total[10m]))
                  /
                (sum by (job, instance, account) (rate(dyvms_api_requests_total[10m])) > 0)
                  > %(apiThrottledRatio)s
              ||| % num,
              'for': cfg.alertFor.DyvmsApiThrottled,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'The Voice Messaging API is throttling the exporter.',
                description: '{{ $value | humanizePercentage }} of the API requests of {{ $labels.instance }} (job {{ $labels.job }}{{ with $labels.account }}, account {{ . }}{{ end }}) were throttled over the last 10 minutes; the exporter slows down on its own, and tasks start failing once retries no longer fit in the scrape timeout.',
              },
            },
            {
              alert: 'DyvmsApiCredentialsRejected',
              // The second arm: calls that never became a request because
              // the key could not be had. STS refused to let the account's
              // identity assume its role (its code: NoPermission,
              // EntityNotExist.Role, ...), or the credentials could not be
              // read at all ("credentials"). Counted per call, after retries.
              expr: |||
                sum by (job, instance, code) (
                  increase(dyvms_api_requests_total{code=~"InvalidAccessKeyId.*|SignatureDoesNotMatch|IncompleteSignature|Forbidden.*|isp.RAM_PERMISSION_DENY|InvalidTimeStamp.Expired"}[5m])
                ) > 0
                or
                sum by (job, instance, code) (
                  increase(dyvms_api_calls_total{code=~"NoPermission|EntityNotExist.Role|InvalidParameter.RoleArn|InvalidSecurityToken.*|credentials"}[5m])
                ) > 0
              |||,
              'for': cfg.alertFor.DyvmsApiCredentialsRejected,
              labels: {
                severity: 'critical',
                component: 'exporter',
              },
              annotations: {
                summary: "The Voice Messaging API rejects the exporter's credentials or permissions.",
                description: 'The API (or STS, for an assumed role) answered {{ $labels.code }} to about {{ $value | humanize }} requests or calls of {{ $labels.instance }} (job {{ $labels.job }}) in the last 5 minutes: the AccessKey, its RAM permissions, the role or the clock is wrong, and retrying will not help.',
              },
            },
            {
              alert: 'DyvmsExporterConfigReloadFailed',
              expr: 'dyvms_exporter_config_last_reload_successful == 0',
              'for': cfg.alertFor.DyvmsExporterConfigReloadFailed,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'The exporter failed to reload its configuration.',
                description: 'The last configuration reload of {{ $labels.instance }} (job {{ $labels.job }}) failed (last_reload_successful = {{ $value }}); it keeps running with the previous configuration.',
              },
            },
            {
              comment:: |||
                Task discovery (CloudQueryTask) of one enterprise keeps failing: no
                successful listing for 15 minutes (3 times the default
                refresh_interval of 5m) AND listings failed within those 15
                minutes. The value is the age of the last good list in seconds, or
                0 when no listing has succeeded since the exporter started or the
                entry was added (the timestamp gauge is 0 then). Both conditions,
                because either alone misleads: a refresh_interval above 5m makes a
                healthy list older than 15 minutes, and one failed listing that the
                retry 30 s later fixes is no news. A failing listing is retried every 30 s, so the
                error counter keeps rising for as long as it fails. Series exist
                only for enterprises with a discovery entry.
              |||,
              alert: 'DyvmsDiscoveryFailing',
              expr: |||
                (
                  (time() - (dyvms_discovery_last_success_timestamp_seconds > 0) > 900)
                  or
                  (dyvms_discovery_last_success_timestamp_seconds == 0)
                )
                and on (job, instance, enterprise_id)
                (increase(dyvms_discovery_errors_total[15m]) > 0)
              |||,
              'for': cfg.alertFor.DyvmsDiscoveryFailing,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'Task discovery keeps failing for an enterprise.',
                description: 'Task discovery (CloudQueryTask) of enterprise {{ $labels.enterprise_id }} on {{ $labels.instance }} (job {{ $labels.job }}) keeps failing: {{ if eq $value 0.0 }}no listing has succeeded since the exporter started or the entry was added, so none of its tasks is discovered{{ else }}the last successful listing was {{ $value | humanizeDuration }} ago; the exporter keeps scraping that list, and tasks created or removed since are not picked up{{ end }}.',
              },
            },
            {
              comment:: |||
                The call-record poller is behind: the call-outcome counters stop
                counting, and an abandoned-call rate computed from them falls towards
                0 instead of showing the problem, so DyvmsCallsAbandonedHigh cannot
                fire. The lag is normally settle + interval (1 to 2 minutes with the
                defaults); 30 minutes leaves room for interval + settle up to about
                20 minutes (raise it for longer ones).
              |||,
              alert: 'DyvmsCallRecordsLagging',
              expr: 'dyvms_call_records_lag_seconds > %(callRecordsLagSeconds)s or dyvms_call_records_lag_seconds < -%(callRecordsClockBehindSeconds)s' % num,
              'for': cfg.alertFor.DyvmsCallRecordsLagging,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'The call-record poller is far behind; call outcomes are not being counted.',
                description: '{{ if lt $value 0.0 }}The host clock of {{ $labels.instance }} (job {{ $labels.job }}) is behind the call-record watermark of enterprise {{ $labels.enterprise_id }} and no poll has run since the step back: call outcomes are not being counted.{{ else }}The call records of enterprise {{ $labels.enterprise_id }} on {{ $labels.instance }} (job {{ $labels.job }}) are read only up to {{ $value | humanizeDuration }} ago: the abandoned-call rate and the other call outcomes miss every call since, and DyvmsCallsAbandonedHigh cannot fire for them.{{ end }}',
              },
            },
            {
              comment:: |||
                The inbound poller (an enterprise's inbound_calls, CloudQueryIbCdr)
                is behind, by the rule of DyvmsCallRecordsLagging and its
                thresholds: the inbound counters stop counting, the queues' offered
                calls over 15 minutes fall to 0, so their service level has no
                value and DyvmsQueueServiceLevelLow, DyvmsQueueAbandonedHigh and
                DyvmsNoAgentOnlineWhileCallsArrive cannot fire.
              |||,
              alert: 'DyvmsInboundCallRecordsLagging',
              expr: 'dyvms_inbound_call_records_lag_seconds > %(callRecordsLagSeconds)s or dyvms_inbound_call_records_lag_seconds < -%(callRecordsClockBehindSeconds)s' % num,
              'for': cfg.alertFor.DyvmsInboundCallRecordsLagging,
              labels: {
                severity: 'warning',
                component: 'exporter',
              },
              annotations: {
                summary: 'The inbound call-record poller is far behind; inbound calls are not being counted.',
                description: '{{ if lt $value 0.0 }}The host clock of {{ $labels.instance }} (job {{ $labels.job }}) is behind the inbound call-record watermark of enterprise {{ $labels.enterprise_id }} and no poll has run since the step back: inbound calls are not being counted.{{ else }}The inbound call records of enterprise {{ $labels.enterprise_id }} on {{ $labels.instance }} (job {{ $labels.job }}) are read only up to {{ $value | humanizeDuration }} ago: the queues\' offered, answered and abandoned calls and their service level miss every call since, and the queue alerts cannot fire for them.{{ end }}',
              },
            },
          ],
        },
        {
          name: 'dyvms.callcentre',
          rules: [
            {
              alert: 'DyvmsCustomersWaitingNoAgentAvailable',
              expr: |||
                (dyvms_task_channels_waiting_agent > 0)
                and on (job, instance, enterprise_id, task_id)
                (dyvms_task_agents_available == 0)
              |||,
              'for': cfg.alertFor.DyvmsCustomersWaitingNoAgentAvailable,
              labels: {
                severity: 'critical',
                component: 'callcentre',
              },
              annotations: {
                summary: 'Answered customers wait for an agent and no agent is available.',
                description: '{{ $value }} answered customers of task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) have been waiting for an agent while no agent of the task was available, for %s: they are about to be abandoned or overflow to the IVR.' % text.duration(cfg.alertFor.DyvmsCustomersWaitingNoAgentAvailable),
              },
            },
            {
              alert: 'DyvmsTaskNotDialling',
              expr: |||
                (dyvms_task_uncalled > 0)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_status{status="running"} == 1)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_channels == 0)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_agents_available > 0)
                and on (job, instance, enterprise_id, task_id) (changes(dyvms_task_today_called[15m]) == 0)
              |||,
              'for': cfg.alertFor.DyvmsTaskNotDialling,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: 'A running task with numbers left and free agents is not dialling.',
                description: 'Task {{ $labels.task_id }} of enterprise {{ $labels.enterprise_id }} is running with {{ $value }} numbers left and agents available, but has had no call in progress and dialled no number for 30 minutes.',
              },
            },
            {
              alert: 'DyvmsTaskPausedWithNumbersLeft',
              expr: |||
                (dyvms_task_uncalled > 0)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_status{status="paused"} == 1)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_agents_online > 0)
              |||,
              'for': cfg.alertFor.DyvmsTaskPausedWithNumbersLeft,
              labels: {
                severity: 'info',
                component: 'callcentre',
              },
              annotations: {
                summary: 'A task is paused with numbers left while its agents are online.',
                description: 'Task {{ $labels.task_id }} of enterprise {{ $labels.enterprise_id }} has been paused for %s with {{ $value }} numbers left while agents of the task are logged in.' % text.duration(cfg.alertFor.DyvmsTaskPausedWithNumbersLeft),
              },
            },
            {
              alert: 'DyvmsAbandonProxyHigh',
              expr: |||
                (
                  clamp_min(dyvms_task_today_answered - dyvms_task_today_agent_calls, 0)
                    / (dyvms_task_today_answered >= %(abandonMinAnswered)s)
                  > %(abandonRatioLimit)s
                )
                and on (job, instance, enterprise_id, task_id) (dyvms_task_status{status="running"} == 1)
              ||| % num,
              'for': cfg.alertFor.DyvmsAbandonProxyHigh,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: "More than %s of today's answered customers were not put through to an agent." % text.percent(cfg.abandonRatioLimit),
                description: '{{ $value | humanizePercentage }} of the customers who answered task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) today were not put through to an agent (abandon proxy; the US TSR and UK Ofcom limit is 3 % of live-answered calls).',
              },
            },
            {
              comment:: |||
                The regulatory abandoned-call rate from the call records (only with
                call_records configured): more than 3 % of the live answers of the
                last 24 hours not connected to an agent within 2 s, with at least 100
                live answers (a handful of calls says little). The "and" keeps a
                task whose counters are no longer exported (the exporter stopped
                polling it) from firing on the past 24 hours.
              |||,
              alert: 'DyvmsCallsAbandonedHigh',
              expr: |||
                (
                  increase(dyvms_calls_abandoned_total[24h])
                    / (increase(dyvms_calls_live_answered_total[24h]) >= %(abandonMinAnswered)s)
                  > %(abandonRatioLimit)s
                )
                and on (job, instance, enterprise_id, task_id) dyvms_calls_live_answered_total
              ||| % num,
              'for': cfg.alertFor.DyvmsCallsAbandonedHigh,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: "More than %s of the last 24 hours' live-answered calls were abandoned." % text.percent(cfg.abandonRatioLimit),
                description: '{{ $value | humanizePercentage }} of the live-answered calls of task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) in the last 24 hours were not connected to an agent within 2 seconds (UK Ofcom limit: 3 % over 24 hours).',
              },
            },
            {
              alert: 'DyvmsAnswerRateLow',
              expr: |||
                (dyvms_task_today_answered / (dyvms_task_today_called >= %(answerRateMinCalled)s) < %(answerRateLow)s)
                and on (job, instance, enterprise_id, task_id) (dyvms_task_status{status="running"} == 1)
              ||| % num,
              'for': cfg.alertFor.DyvmsAnswerRateLow,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: 'Very few dialled customers answer.',
                description: 'Only {{ $value | humanizePercentage }} of the numbers dialled today by task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) were answered.',
              },
            },
            {
              alert: 'DyvmsAgentOccupancyHigh',
              expr: |||
                (dyvms_task_agents_bridged + dyvms_task_agents_wrapup) / (dyvms_task_agents_online >= %(occupancyMinOnline)s) > %(occupancyHigh)s
              ||| % num,
              'for': cfg.alertFor.DyvmsAgentOccupancyHigh,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: 'Agents of a task have been almost always busy for %s.' % text.duration(cfg.alertFor.DyvmsAgentOccupancyHigh),
                description: '{{ $value | humanizePercentage }} of the online agents of task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) are talking or in wrap-up, sustained for %s.' % text.duration(cfg.alertFor.DyvmsAgentOccupancyHigh),
              },
            },
            {
              comment:: |||
                Reads per-agent series: never fires with metrics.agents: false, or
                with dyvms_agent_today_answered / dyvms_agent_call_limit excluded.
              |||,
              alert: 'DyvmsAgentDailyCallLimitReached',
              expr: |||
                label_replace(
                  dyvms_agent_today_answered{removed="false"} / (dyvms_agent_call_limit > 0) >= 1,
                  "limit", "task", "", "")
                or
                label_replace(
                  dyvms_agent_enterprise_today_answered{removed="false"} / (dyvms_agent_enterprise_call_limit > 0) >= 1,
                  "limit", "enterprise", "", "")
              |||,
              'for': cfg.alertFor.DyvmsAgentDailyCallLimitReached,
              labels: {
                severity: 'info',
                component: 'callcentre',
              },
              annotations: {
                summary: 'An agent has reached its daily call limit.',
                description: 'Agent {{ $labels.cno }} of task {{ $labels.task_id }} (enterprise {{ $labels.enterprise_id }}) has used {{ $value | humanizePercentage }} of its {{ $labels.limit }}-level daily call limit and gets no more calls today.',
              },
            },
            {
              comment:: |||
                Service level of an inbound queue (dyvms:queue_service_level:ratio15m:
                calls answered within the queue's threshold / calls offered, over 15
                minutes) below the target, with at least serviceLevelMinOffered
                calls offered in the 15 minutes (a handful of calls says little).
                The last "and" keeps a queue whose counters are no longer exported
                (a failed scrape, the exporter gone) from firing on the records'
                last 15 minutes. No value, so no alert, without the queue's
                threshold (queues: not configured, or not a bucket edge).
              |||,
              alert: 'DyvmsQueueServiceLevelLow',
              expr: |||
                (dyvms:queue_service_level:ratio15m < %(serviceLevelTarget)s)
                and on (job, instance, enterprise_id, queue) (dyvms:queue_inbound_offered:increase15m >= %(serviceLevelMinOffered)s)
                and on (job, instance, enterprise_id, queue) dyvms_inbound_calls_total{outcome="answered"}
              ||| % num,
              'for': cfg.alertFor.DyvmsQueueServiceLevelLow,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: 'An inbound queue answers fewer than %s of its calls within its threshold.' % text.percent(cfg.serviceLevelTarget),
                description: 'Only {{ $value | humanizePercentage }} of the calls offered to queue {{ $labels.queue }} (enterprise {{ $labels.enterprise_id }}) in the last 15 minutes were answered within the queue\'s service-level threshold (target %s), for %s.' % [text.percent(cfg.serviceLevelTarget), text.duration(cfg.alertFor.DyvmsQueueServiceLevelLow)],
              },
            },
            {
              comment:: |||
                Share of the calls offered to an inbound queue over 15 minutes whose
                callers hung up waiting in it (dyvms:queue_inbound_abandon:ratio15m)
                above queueAbandonRatioHigh, with at least serviceLevelMinOffered
                calls offered. Overflows (queue timeout, no agent) are not abandons.
              |||,
              alert: 'DyvmsQueueAbandonedHigh',
              expr: |||
                (dyvms:queue_inbound_abandon:ratio15m > %(queueAbandonRatioHigh)s)
                and on (job, instance, enterprise_id, queue) (dyvms:queue_inbound_offered:increase15m >= %(serviceLevelMinOffered)s)
                and on (job, instance, enterprise_id, queue) dyvms_inbound_calls_total{outcome="abandoned_in_queue"}
              ||| % num,
              'for': cfg.alertFor.DyvmsQueueAbandonedHigh,
              labels: {
                severity: 'warning',
                component: 'callcentre',
              },
              annotations: {
                summary: 'More than %s of the calls offered to an inbound queue were abandoned in it.' % text.percent(cfg.queueAbandonRatioHigh),
                description: '{{ $value | humanizePercentage }} of the calls offered to queue {{ $labels.queue }} (enterprise {{ $labels.enterprise_id }}) in the last 15 minutes hung up while waiting in the queue, for %s.' % text.duration(cfg.alertFor.DyvmsQueueAbandonedHigh),
              },
            },
            {
              comment:: |||
                An enterprise read by online_agents has no agent online (the sum of
                dyvms_enterprise_agents over every state, dyvms:enterprise_agents_online:sum,
                is 0) while inbound calls that reached a queue were counted in the
                last 15 minutes. A failed CloudListOnlineAgent read writes no
                state, so it never looks like 0 agents.
              |||,
              alert: 'DyvmsNoAgentOnlineWhileCallsArrive',
              expr: |||
                (sum by (job, instance, enterprise_id) (dyvms_enterprise_agents) == 0)
                and on (job, instance, enterprise_id)
                (sum by (job, instance, enterprise_id) (increase(dyvms_inbound_calls_total{queue!="none"}[15m])) > 0)
              |||,
              'for': cfg.alertFor.DyvmsNoAgentOnlineWhileCallsArrive,
              labels: {
                severity: 'critical',
                component: 'callcentre',
              },
              annotations: {
                summary: 'No agent is online while inbound calls reach the queues.',
                description: 'Enterprise {{ $labels.enterprise_id }} has had {{ $value }} agents online for %s while inbound calls reached its queues in the last 15 minutes: every caller waits, overflows or hangs up.' % text.duration(cfg.alertFor.DyvmsNoAgentOnlineWhileCallsArrive),
              },
            },
          ],
        },
      ]
    ],
  },
}
