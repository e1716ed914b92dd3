// The mixin's settings. Override any of them in your own file:
//
//   (import 'dyvms-mixin/mixin.libsonnet') + {
//     _config+:: { dyvmsSelector: 'job=~"callcentre_.*"', showMultiCluster: true },
//   }
//
// With these defaults the mixin renders exactly rules/dyvms.rules.yml,
// rules/dyvms.alerts.yml and grafana/dashboards/*.json (a test checks it).
{
  _config+:: {
    // The scrape jobs of dyvms_exporter, as a label matcher. Only the alerts
    // that watch Prometheus' own `up` series need it (DyvmsExporterDown,
    // DyvmsExporterAbsent): every other expression reads dyvms_* series,
    // which only the exporter writes. It must match every job the exporter
    // is scraped as (/metrics, /probe, /exporter-metrics), or those alerts
    // never fire for the jobs it misses.
    dyvmsSelector: 'job=~"dyvms.*"',

    // Dashboards. Every query filters on the cluster variable
    // (clusterLabel=~"$cluster", "All" by default, which also matches series
    // without the label); the variable is hidden unless showMultiCluster is
    // true, for one Grafana in front of several clusters' Prometheus data
    // (Thanos, Mimir, a federation) whose series carry clusterLabel.
    showMultiCluster: false,
    clusterLabel: 'cluster',

    // The boards' time zone: the call centre's. Its "today" counters reset
    // at its midnight, so the boards show that midnight at 00:00 whatever the
    // viewer's browser says. An IANA zone name, or "browser" or "utc".
    dashboardTimezone: 'Asia/Shanghai',

    // Where each alert's runbook_url points: %s is the alert's name.
    runbookURLPattern: 'https://github.com/dyvms-community/dyvms_exporter/blob/main/docs/runbooks/%s.md',

    // How long each alert's condition must hold before it fires.
    alertFor: {
      DyvmsExporterDown: '5m',
      DyvmsExporterAbsent: '10m',
      DyvmsTaskScrapeFailing: '10m',
      DyvmsApiThrottled: '15m',
      DyvmsApiCredentialsRejected: '5m',
      DyvmsExporterConfigReloadFailed: '5m',
      DyvmsDiscoveryFailing: '5m',
      DyvmsCallRecordsLagging: '10m',
      DyvmsCustomersWaitingNoAgentAvailable: '2m',
      DyvmsTaskNotDialling: '15m',
      DyvmsTaskPausedWithNumbersLeft: '30m',
      DyvmsAbandonProxyHigh: '15m',
      DyvmsCallsAbandonedHigh: '10m',
      DyvmsAnswerRateLow: '30m',
      DyvmsAgentOccupancyHigh: '30m',
      DyvmsAgentDailyCallLimitReached: '5m',
      DyvmsInboundCallRecordsLagging: '10m',
      DyvmsQueueServiceLevelLow: '10m',
      DyvmsQueueAbandonedHigh: '15m',
      DyvmsNoAgentOnlineWhileCallsArrive: '5m',
    },

    // Thresholds.
    // Share of API requests throttled (DyvmsApiThrottled).
    apiThrottledRatio: 0.05,
    // Call-record poller lag, seconds (DyvmsCallRecordsLagging, and
    // DyvmsInboundCallRecordsLagging for the inbound poller); keep it well
    // above call_records' (inbound_calls') interval + settle.
    callRecordsLagSeconds: 1800,
    // A lag below minus this many seconds: the host's clock went back
    // behind the poller's watermark and no poll has run since the step
    // (the poller recovers at its next poll; docs/call-records-poller.md).
    callRecordsClockBehindSeconds: 60,
    // The abandoned-call limit (US TSR, UK Ofcom: 3 %) of
    // DyvmsAbandonProxyHigh and DyvmsCallsAbandonedHigh, and how many
    // answered calls they need before judging.
    abandonRatioLimit: 0.03,
    abandonMinAnswered: 100,
    // DyvmsAnswerRateLow: answer rate below this, with at least this many
    // numbers dialled today.
    answerRateLow: 0.05,
    answerRateMinCalled: 200,
    // DyvmsAgentOccupancyHigh: occupancy above this, with at least this many
    // agents online.
    occupancyHigh: 0.9,
    occupancyMinOnline: 3,
    // The buckets of dyvms_inbound_answer_wait_seconds (whole seconds), as
    // the exporter writes them (callrecords.InboundWaitBuckets): a queue's
    // service-level threshold is read at the bucket of that bound.
    inboundWaitBuckets: [1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600],
    // The call centre's offset from UTC in whole hours: the "today" recording
    // rules (dyvms:queue_*:today) count from its midnight. 8 is China
    // Standard Time (Asia/Shanghai), which has no daylight saving time; a
    // zone that has one is an hour off for part of the year (a fixed offset
    // is all PromQL can do). Keep dashboardTimezone the same zone.
    callCentreUTCOffsetHours: 8,
    // DyvmsQueueServiceLevelLow: a queue's service level over 15 minutes
    // below this target, with at least serviceLevelMinOffered calls offered
    // in the 15 minutes (DyvmsQueueAbandonedHigh uses the same volume guard).
    serviceLevelTarget: 0.8,
    serviceLevelMinOffered: 10,
    // DyvmsQueueAbandonedHigh: share of the calls offered to a queue over 15
    // minutes whose callers hung up waiting in it.
    queueAbandonRatioHigh: 0.1,
  },
}
