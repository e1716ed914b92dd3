// The recording rules (rules/dyvms.rules.yml). They read only dyvms_*
// series, so they need no job selector.
{
  local cfg = $._config,
  assert std.isNumber(cfg.callCentreUTCOffsetHours) && cfg.callCentreUTCOffsetHours == std.floor(cfg.callCentreUTCOffsetHours)
         && cfg.callCentreUTCOffsetHours >= -12 && cfg.callCentreUTCOffsetHours <= 14
         : '_config.callCentreUTCOffsetHours must be a whole number of hours from -12 to 14',

  // The call centre's last midnight before the rule's evaluation time, in
  // unix seconds, as a scalar. time() inside a subquery is the subquery's
  // step, so the evaluation time is read through "@ end()" (for a rule, the
  // evaluation time; @ is on by default since Prometheus 2.33): the last
  // 1-minute step at or before it, which is on the same day since midnights
  // are whole minutes.
  local offsetSeconds = cfg.callCentreUTCOffsetHours * 3600,
  local plusOffset = if offsetSeconds >= 0 then '+ %d' % offsetSeconds else '- %d' % -offsetSeconds,
  local minusOffset = if offsetSeconds >= 0 then '- %d' % offsetSeconds else '+ %d' % -offsetSeconds,
  local midnight = 'scalar(max_over_time((floor((vector(time()) %s) / 86400) * 86400 %s)[1m:1m] @ end()))' % [plusOffset, minusOffset],

  // The increase of each counter series of sel since the call centre's
  // midnight: at each minute step t after midnight (a subquery of one day at
  // 1-minute resolution), c - b, or c after a counter reset (c < b), where c
  // is the series at t and b its last sample in the hour before t - 1m
  // (last_over_time skips the staleness markers of a failed scrape, and
  // bridges gaps up to an hour); the steps telescope to the increase since
  // midnight. A series with no sample in that hour counts from its second
  // step on (a new queue's first calls are lost; counting its whole value
  // instead would count every call since the exporter started again for a
  // series back after a gap of over an hour). 0 until the first step after
  // midnight; no value once the series has not been exported for 15
  // minutes. "sum without ()" only drops the metric name, which the reset
  // branch would keep.
  local today(sel) = |||
    (
      sum_over_time((
        sum without () (
          (%(sel)s - last_over_time(%(sel)s[1h] offset 1m) >= 0)
          or
          (%(sel)s < last_over_time(%(sel)s[1h] offset 1m))
        )
        and on () (vector(time()) > %(midnight)s)
      )[1d:1m])
      or
      0 * %(sel)s
    )
    and
    last_over_time(%(sel)s[15m])
  ||| % { sel: sel, midnight: midnight },

  local indent(s) = std.join('\n', ['  ' + l for l in std.split(std.rstripChars(s, '\n'), '\n')]),

  prometheusRules+:: {
    comment:: |||
      Recording rules for dyvms_exporter (Alibaba Cloud Voice Messaging Service, CloudMonitorTask).

      Names follow level:metric:operations. "task" level keeps every label of the
      task series (job, instance, enterprise_id, task_id); "agent" level also keeps
      cno and removed; "enterprise" level sums the tasks of one enterprise as seen
      by one exporter (job, instance, enterprise_id); "queue" level keeps the
      inbound queue (job, instance, enterprise_id, queue).

      Two kinds of inputs, and why it matters:
        * cumulative counters kept by the vendor, exported as gauges:
          dyvms_task_{called,answered,uncalled,agent_calls} since the task was
          created, and dyvms_task_today_* since local midnight (they drop to 0 at
          midnight in the call centre's time zone, which is not necessarily the
          Prometheus server's). Ratios of them are exact for their window.
        * instantaneous snapshots: dyvms_task_channels*, dyvms_task_agents_*
          (assigned, online, available, ringing, bridged, wrapup). One value per
          scrape; anything that starts and ends between two scrapes is invisible,
          and they are counts of calls or agents *right now*, never of events.
          Ratios of them are point-in-time shares, not rates.

      Division by zero: every denominator is filtered with "> 0", so a task with
      nothing to divide by has no sample (no NaN, no +Inf). A failed task exports
      no series at all, so none of these rules produces a value for it either.
    |||,
    groups+: [
      {
        name: 'dyvms.rules',
        interval: '1m',
        rules: [
          {
            comment:: |||
              Answer rate today = customers who answered today / numbers dialled
              today. Exact for the calendar day of the call centre; resets at local
              midnight, so early in the day it is based on few calls.
            |||,
            record: 'dyvms:task_answer_ratio:today',
            expr: 'dyvms_task_today_answered / (dyvms_task_today_called > 0)',
          },
          {
            comment:: |||
              Answer rate since the task was created (same formula, whole task).
            |||,
            record: 'dyvms:task_answer_ratio:total',
            expr: 'dyvms_task_answered / (dyvms_task_called > 0)',
          },
          {
            comment:: |||
              List progress = numbers dialled / (numbers dialled + numbers left),
              since task creation. 0 = untouched list, 1 = every number dialled.
              If the vendor counts redials in CalledCount the ratio reaches 1 only
              when UncalledCount is 0, which is still what "progress" should mean.
            |||,
            record: 'dyvms:task_list_progress:ratio',
            expr: 'dyvms_task_called / ((dyvms_task_called + dyvms_task_uncalled) > 0)',
          },
          {
            comment:: |||
              Agent occupancy (instantaneous) = (agents talking + agents in
              wrap-up) / agents online. Paused agents count as online, so breaks
              lower it. Not clamped: values above 1 mean the vendor's agent counts
              disagree (its own example answer shows bridged 6 + wrap-up 4 with 2
              online), which is worth seeing rather than hiding.
            |||,
            record: 'dyvms:task_agent_occupancy:ratio',
            expr: '(dyvms_task_agents_bridged + dyvms_task_agents_wrapup) / (dyvms_task_agents_online > 0)',
          },
          {
            comment:: |||
              Agent availability (instantaneous) = agents free to take a call /
              agents online.
            |||,
            record: 'dyvms:task_agent_availability:ratio',
            expr: 'dyvms_task_agents_available / (dyvms_task_agents_online > 0)',
          },
          {
            comment:: |||
              Customers waiting for an agent: the highest sampled value over the
              last 5 minutes, so a short queue between two dashboard refreshes is
              not missed. Still only sampled at scrape times (a queue that forms
              and clears between two scrapes is invisible). Not for alerting: it
              keeps returning the old samples for 5 minutes after a task fails.
            |||,
            record: 'dyvms:task_channels_waiting_agent:max5m',
            expr: 'max_over_time(dyvms_task_channels_waiting_agent[5m])',
          },
          {
            comment:: |||
              Customers waiting for an agent, all tasks of an enterprise, right now.
            |||,
            record: 'dyvms:enterprise_channels_waiting_agent:sum',
            expr: 'sum by (job, instance, enterprise_id) (dyvms_task_channels_waiting_agent)',
          },
          {
            comment:: |||
              IVR overflow share (instantaneous) = calls overflowed to the IVR /
              calls of the task in progress. A share of the calls up right now, not
              a count of overflow events: the API has no cumulative IVR counter.
            |||,
            record: 'dyvms:task_ivr_overflow:ratio',
            expr: 'dyvms_task_channels_ivr / (dyvms_task_channels > 0)',
          },
          {
            comment:: |||
              Calls in the IVR, all tasks of an enterprise, right now.
            |||,
            record: 'dyvms:enterprise_channels_ivr:sum',
            expr: 'sum by (job, instance, enterprise_id) (dyvms_task_channels_ivr)',
          },
          {
            comment:: |||
              Enterprise channel utilisation (instantaneous) = channels in use by the
              tasks this exporter reads / the enterprise's predictive channels.
              Tasks not configured in the exporter are not counted, so this is a
              lower bound. Every task reports the same capacity, hence max.
            |||,
            record: 'dyvms:enterprise_channel_utilisation:ratio',
            expr: |||
              sum by (job, instance, enterprise_id) (dyvms_task_channels)
                / on (job, instance, enterprise_id)
              (max by (job, instance, enterprise_id) (dyvms_enterprise_channels) > 0)
            |||,
          },
          {
            comment:: |||
              Abandon PROXY today = (customers who answered today - calls put
              through to an agent today) / customers who answered today.
              It is a proxy, not the regulatory abandon rate, because:
                - the regulators (US Telemarketing Sales Rule, 16 CFR 310.4(b)(4):
                  3 % of live-answered calls per campaign over 30 days; UK Ofcom
                  persistent misuse policy: 3 % of live calls per campaign or call
                  centre over 24 h) count a call as abandoned when the
                  answering person is not connected to a live agent within 2 s of
                  their greeting; the API has no per-call connect delay, so a customer
                  put through after 20 s of waiting counts here as not abandoned;
                - customers waiting for an agent right now (still in flight) count
                  as abandoned until they are put through, which inflates the ratio
                  by at most dyvms_task_channels_waiting_agent / today_answered: use
                  a volume threshold before acting on it;
                - CallAgentCount ("呼叫坐席数") counts calls put through to agents;
                  if the vendor counts a call twice when the first agent does not
                  answer and it is re-offered, the proxy reads low (hence clamp_min
                  at 0 when agent calls exceed answers);
                - answering machines: Ofcom lets AMD false positives be estimated
                  out; the API cannot tell them apart;
                - the window is the call centre's calendar day (reset at local
                  midnight), not a 30-day campaign period or a rolling 24 h.
              Good enough as an early warning that the dialler paces too hard for
              the agents available; not a compliance report.
            |||,
            record: 'dyvms:task_abandon_proxy_ratio:today',
            expr: 'clamp_min(dyvms_task_today_answered - dyvms_task_today_agent_calls, 0) / (dyvms_task_today_answered > 0)',
          },
          {
            comment:: |||
              Per-agent non-answer ratio = calls offered to the agent that it did
              not answer / calls offered to it, since the agent joined the task.
              This and the next two rules read per-agent series: with
              metrics.agents: false (or those families excluded) they record
              nothing.
            |||,
            record: 'dyvms:agent_non_answer:ratio',
            expr: 'dyvms_agent_not_bridged / (dyvms_agent_called > 0)',
          },
          {
            comment:: |||
              Per-agent daily limit usage, task level = calls answered today in the
              task / the agent's daily limit in the task. Only where a limit exists:
              the exporter drops the vendor's -1 ("no limit"), and "> 0" drops a
              limit of 0. 1 means the limit is reached: the dialler stops putting
              calls through to this agent.
            |||,
            record: 'dyvms:agent_call_limit_usage:ratio',
            expr: 'dyvms_agent_today_answered / (dyvms_agent_call_limit > 0)',
          },
          {
            comment:: |||
              Per-agent daily limit usage, enterprise level (all tasks of the
              enterprise), only where an enterprise limit exists.
            |||,
            record: 'dyvms:agent_enterprise_call_limit_usage:ratio',
            expr: 'dyvms_agent_enterprise_today_answered / (dyvms_agent_enterprise_call_limit > 0)',
          },
          {
            comment:: |||
              Agents per state in a task, from dyvms_agent_status (agents currently
              listed in the task only). Counting the series that are 1 gives the
              same answer with metrics.agent_status: state_set (every state, one
              of them 1) and current (only the current state, always 1): a state
              with no agent is absent in both, not 0.
              Needs the per-agent series (metrics.agents: true, the default).
            |||,
            record: 'dyvms:task_agent_status:count',
            expr: 'count by (job, instance, enterprise_id, task_id, status) (dyvms_agent_status{removed="false"} == 1)',
          },
          {
            comment:: |||
              Abandoned-call rate over 24 h (UK Ofcom) = live-answered calls not
              connected to an agent within 2 s / live-answered calls, from the call
              records (dyvms_calls_*_total, only with call_records configured; see
              README, "Call outcomes", for the outcome table). The regulatory
              number, unlike the proxy above: per call, to the second the vendor
              records. Per exporter (instance): with two exporters polling the same
              enterprise, take max without (instance), never the sum.
            |||,
            record: 'dyvms:task_calls_abandoned:ratio_24h',
            expr: 'increase(dyvms_calls_abandoned_total[24h]) / (increase(dyvms_calls_live_answered_total[24h]) > 0)',
          },
          {
            comment:: |||
              Answer-to-agent within 2 s over 24 h = live answers connected to an
              agent at most 2 s after the answer / live answers: the wait
              histogram's le="2" bucket (written "2.0" by Prometheus 3, hence the
              regular expression). 1 minus the abandoned rate, less the calls
              connected with an unknown wait.
            |||,
            record: 'dyvms:task_calls_answer_to_agent_within_2s:ratio_24h',
            expr: 'sum without (le) (increase(dyvms_call_answer_to_agent_wait_seconds_bucket{le=~"2|2[.]0"}[24h])) / (increase(dyvms_calls_live_answered_total[24h]) > 0)',
          },
        ],
      },
      {
        comment:: |||
          The 30-day rate reads 30 days of samples per task: evaluated every 15
          minutes, which is plenty for a number that moves over weeks.
        |||,
        name: 'dyvms.calls.30d',
        interval: '15m',
        rules: [
          {
            comment:: |||
              Abandoned-call rate over 30 days (US Telemarketing Sales Rule): as
              the 24 h rate, over 30 days. Counter resets (restarts) are handled by
              increase(); calls the exporter was not running for are not in it.
            |||,
            record: 'dyvms:task_calls_abandoned:ratio_30d',
            expr: 'increase(dyvms_calls_abandoned_total[30d]) / (increase(dyvms_calls_live_answered_total[30d]) > 0)',
          },
        ],
      },
      {
        comment:: |||
          Inbound calls per queue over 15 minutes, from the inbound poller's
          counters (dyvms_inbound_*, only with an enterprise's inbound_calls;
          see docs/call-centre.md for the outcome table). Counts of calls that
          ended in the 15 minutes, per exporter (instance): with two exporters
          polling the same enterprise, take max without (instance), never the
          sum. Calls that reached no queue (queue="none") are left out.
        |||,
        name: 'dyvms.inbound',
        interval: '1m',
        rules: [
          {
            comment:: |||
              Offered = inbound calls that reached the queue: every call with the
              queue's number except those the queue did not take (not_queued,
              no_agent_not_queued, queue_full), which never waited in it.
            |||,
            record: 'dyvms:queue_inbound_offered:increase15m',
            expr: 'sum without (outcome) (increase(dyvms_inbound_calls_total{queue!="none",outcome!~"not_queued|no_agent_not_queued|queue_full"}[15m]))',
          },
          {
            comment:: |||
              Answered = offered calls an agent answered (outcome answered).
            |||,
            record: 'dyvms:queue_inbound_answered:increase15m',
            expr: 'sum without (outcome) (increase(dyvms_inbound_calls_total{queue!="none",outcome="answered"}[15m]))',
          },
          {
            comment:: |||
              Abandoned = offered calls whose caller hung up while waiting in the
              queue (outcome abandoned_in_queue; overflows by timeout or for want
              of an agent are not abandons).
            |||,
            record: 'dyvms:queue_inbound_abandoned:increase15m',
            expr: 'sum without (outcome) (increase(dyvms_inbound_calls_total{queue!="none",outcome="abandoned_in_queue"}[15m]))',
          },
          {
            comment:: |||
              Answered within the queue's threshold: the answer-wait histogram's
              bucket whose upper bound equals the queue's
              dyvms_queue_service_level_seconds (from CloudListQueue, same
              exporter). The wait is BridgeTime - StartTime, the IVR included (a
              Cloud record has no queue-join time). A threshold that is not a
              bucket edge (1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300,
              600 s) gives no value rather than a guess. le is written "15" or
              "15.0" (Prometheus 3), hence the regular expressions.
            |||,
            record: 'dyvms:queue_inbound_answered_within_threshold:increase15m',
            expr: std.join('\nor\n', [
              'sum without (le) (increase(dyvms_inbound_answer_wait_seconds_bucket{le=~"%(b)d|%(b)d[.]0"}[15m]) and on (job, instance, enterprise_id, queue) (dyvms_queue_service_level_seconds == %(b)d))' % { b: b }
              for b in cfg.inboundWaitBuckets
            ]),
          },
          {
            comment:: |||
              Service level = calls answered within the queue's threshold /
              calls offered to the queue (both above, over the same 15 minutes).
              Abandoned calls count against it however short their wait (no
              short-abandon exclusion). No sample while nothing was offered, or
              without the queue's threshold (queues: not configured, or a
              threshold that is not a bucket edge).
            |||,
            record: 'dyvms:queue_service_level:ratio15m',
            expr: 'dyvms:queue_inbound_answered_within_threshold:increase15m / (dyvms:queue_inbound_offered:increase15m > 0)',
          },
          {
            comment:: |||
              Abandon ratio = calls abandoned in the queue / calls offered to the
              queue (both above, over the same 15 minutes). No sample while
              nothing was offered.
            |||,
            record: 'dyvms:queue_inbound_abandon:ratio15m',
            expr: 'dyvms:queue_inbound_abandoned:increase15m / (dyvms:queue_inbound_offered:increase15m > 0)',
          },
        ],
      },
      {
        comment:: |||
          Inbound calls per queue since the call centre's midnight (UTC%(sign)s%(hours)d,
          _config.callCentreUTCOffsetHours of the mixin; the default UTC+8 is
          China Standard Time, which has no daylight saving time), with the
          definitions of the 15-minute rules of dyvms.inbound. PromQL has no
          range that ends at a midnight, so two rules sum, over a subquery of
          one day at 1-minute steps, each counter's increase over the minute
          before every step after midnight (the evaluation time, which says
          where midnight is, is read with "@ end()"), and the others add up
          their results. The steps are whole minutes, so the values are up to
          a minute behind the counters. A counter reset (an exporter restart),
          failed scrapes and gaps of up to an hour are bridged; the calls of a
          queue's first scrape (a queue CloudListQueue does not list appears
          with its first calls) are not counted; a queue whose counters are no
          longer exported has no value after 15 minutes.
          Cost: each evaluation steps 1,440 times through each input series,
          11 outcome series and 15 answer-wait buckets per queue: 26 x 1,440 =
          37,440 steps a minute for one queue, 7.5 million for 200. A query
          holds up to about 5,000 samples per input series at once (promtool,
          a full day of data), so the bucket rule stays within Prometheus'
          default query.max-samples (50 million) up to about 650 queues in
          one Prometheus; beyond, raise it.
        ||| % { sign: if cfg.callCentreUTCOffsetHours >= 0 then '+' else '-', hours: std.abs(cfg.callCentreUTCOffsetHours) },
        name: 'dyvms.inbound.today',
        interval: '1m',
        rules: [
          {
            comment:: |||
              Inbound calls today by outcome, per queue: the increase of
              dyvms_inbound_calls_total since midnight (calls that reached no
              queue left out). The next three rules add its outcomes up.
            |||,
            record: 'dyvms:queue_inbound_calls:today',
            expr: today('dyvms_inbound_calls_total{queue!="none"}'),
          },
          {
            comment:: |||
              Offered today = calls that reached the queue since midnight (the
              outcomes of dyvms:queue_inbound_offered:increase15m).
            |||,
            record: 'dyvms:queue_inbound_offered:today',
            expr: 'sum without (outcome) (dyvms:queue_inbound_calls:today{outcome!~"not_queued|no_agent_not_queued|queue_full"})',
          },
          {
            comment:: |||
              Answered today = offered calls an agent answered since midnight.
            |||,
            record: 'dyvms:queue_inbound_answered:today',
            expr: 'sum without (outcome) (dyvms:queue_inbound_calls:today{outcome="answered"})',
          },
          {
            comment:: |||
              Abandoned today = offered calls whose caller hung up waiting in the
              queue since midnight.
            |||,
            record: 'dyvms:queue_inbound_abandoned:today',
            expr: 'sum without (outcome) (dyvms:queue_inbound_calls:today{outcome="abandoned_in_queue"})',
          },
          {
            comment:: |||
              Answered within the queue's threshold today: of the answer-wait
              buckets since midnight, the one whose bound is the queue's
              dyvms_queue_service_level_seconds now (a threshold changed during
              the day applies to the whole day). One subquery over the buckets
              that can be a threshold, then the threshold is turned into an le
              label to join on (le is written "15.0" by Prometheus 3: the ".0"
              is cut first). As the 15-minute rule: no value for a threshold that
              is not a bucket edge.
            |||,
            record: 'dyvms:queue_inbound_answered_within_threshold:today',
            expr: |||
              sum without (le) (
                label_replace(
              %(today)s,
                  "le", "$1", "le", "(.+)[.]0")
                and on (job, instance, enterprise_id, queue, le)
                (
              %(thresholds)s
                )
              )
            ||| % {
              today: indent(indent(today('dyvms_inbound_answer_wait_seconds_bucket{le=~"%s"}' % std.join('|', ['%(b)d|%(b)d[.]0' % { b: b } for b in cfg.inboundWaitBuckets])))),
              thresholds: std.join('\n    or\n', [
                '    label_replace(dyvms_queue_service_level_seconds == %(b)d, "le", "%(b)d", "", "")' % { b: b }
                for b in cfg.inboundWaitBuckets
              ]),
            },
          },
          {
            comment:: |||
              Service level today = calls answered within the queue's threshold
              today / calls offered to the queue today. Early in the day it rests
              on few calls.
            |||,
            record: 'dyvms:queue_service_level:ratio_today',
            expr: 'dyvms:queue_inbound_answered_within_threshold:today / (dyvms:queue_inbound_offered:today > 0)',
          },
          {
            comment:: |||
              Abandon ratio today = calls abandoned in the queue today / calls
              offered to the queue today.
            |||,
            record: 'dyvms:queue_inbound_abandon:ratio_today',
            expr: 'dyvms:queue_inbound_abandoned:today / (dyvms:queue_inbound_offered:today > 0)',
          },
        ],
      },
      {
        comment:: |||
          Agents of a whole enterprise, from dyvms_enterprise_agents (an
          enterprise's online_agents: CloudListOnlineAgent, every online agent
          once however many tasks it is in). A failed read writes no state, so
          these rules have no value for it rather than zeros.
        |||,
        name: 'dyvms.enterprise',
        interval: '1m',
        rules: [
          {
            comment:: |||
              Agents online = agents in any state (idle, paused, wrap-up, calling,
              ringing, talking, invalid, unknown).
            |||,
            record: 'dyvms:enterprise_agents_online:sum',
            expr: 'sum by (job, instance, enterprise_id) (dyvms_enterprise_agents)',
          },
          {
            comment:: |||
              Enterprise agent occupancy (instantaneous) = agents busy (calling,
              ringing, talking, wrap-up) / agents available for calls (idle and
              the busy ones). Paused, invalid and unknown agents are in neither:
              a break does not lower it, unlike dyvms:task_agent_occupancy:ratio,
              which counts paused agents as online. No value while no agent is
              available or busy.
            |||,
            record: 'dyvms:enterprise_agent_occupancy:ratio',
            expr: |||
              sum by (job, instance, enterprise_id) (dyvms_enterprise_agents{state=~"calling|ringing|talking|wrap-up"})
                /
              (sum by (job, instance, enterprise_id) (dyvms_enterprise_agents{state=~"idle|calling|ringing|talking|wrap-up"}) > 0)
            |||,
          },
        ],
      },
    ],
  },
}
