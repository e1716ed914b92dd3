// Package simulator is a test double of the Alibaba Cloud API gateway for
// the Voice Messaging Service (dyvmsapi, 2017-05-25) operations the
// exporter uses, CloudMonitorTask, CloudQueryTask,
// CloudQueryPredictiveCallCdr, CloudListOnlineAgent, CloudListQueue and
// CloudQueryIbCdr, backed by a small
// call-centre model whose numbers move like real ones.
//
// It is independent of the code it tests: it verifies signatures from the
// published ACS3-HMAC-SHA256 algorithm, writes the vendor's JSON by hand
// with the vendor's quirks, and never imports apiclient. The vendor's own
// client (darabonba-openapi, in the tests only) referees.
//
// # Gateway
//
// Only POST / with every parameter in the query string and an empty body is
// served. Checks, in order, and what they answer (HTTP status, Code):
//
//   - wrong method or path: 404 InvalidAction.NotFound
//   - no x-acs-action header: 400 MissingParameter; an action other than
//     the three: 404 InvalidAction.NotFound
//   - no x-acs-version header: 400 MissingParameter; a version other than
//     2017-05-25: 400 InvalidVersion (the gateway's code for an unknown
//     version of a known product)
//   - Authorization present but x-acs-date, x-acs-signature-nonce or
//     x-acs-content-sha256 missing: 400 MissingParameter
//   - no Authorization, another algorithm, host or an x-acs-* (or
//     content-type) header not signed, a signed header absent: 400 IncompleteSignature
//   - x-acs-content-sha256 not the body's hash: 400 SignatureDoesNotMatch
//   - x-acs-date unparsable: 400 InvalidTimeStamp.Format; more than 15
//     minutes from the clock either way: 400 InvalidTimeStamp.Expired
//   - unknown AccessKeyId: 404 InvalidAccessKeyId.NotFound; disabled key:
//     400 InvalidAccessKeyId.Inactive
//   - STS keys (a security_token configured): no x-acs-security-token:
//     400 InvalidSecurityToken.Malformed; a different token, or a token sent
//     with a non-STS key: 400 InvalidSecurityToken.MismatchWithAccessKey;
//     past expires_at: 400 InvalidSecurityToken.Expired
//   - wrong signature: 400 SignatureDoesNotMatch (the message carries the
//     server's string to sign, as the real gateway's does)
//   - nonce seen before: 400 SignatureNonceUsed. Nonces are remembered until
//     their request's date leaves the ±15 minute window, at most max_nonces
//     of them. Only authenticated requests spend a nonce.
//   - non-empty body: 400 InvalidParameter
//   - injected error faults (see below)
//   - a required parameter missing: 400 MissingParameter; not an integer or
//     out of range (CloudQueryTask Limit outside 1..100, Type not 1 or 2,
//     Status not 0..3, Start < 0, TimeType not 1..3; CloudQueryPredictiveCallCdr
//     Limit outside 1..1000, TimeRangeType not 1 or 2): 400 InvalidParameter
//   - key restricted to other enterprises, or of another account than the
//     enterprise's owner: 403 Forbidden.RAM
//
// Errors have the vendor's body {"RequestId","HostId","Code","Message",
// "Recommend"} and an x-acs-request-id header. Successful answers follow
// the vendor's example field for field and type for type, except the
// deprecated AccessDeniedDetail, which is left out. Unknown query
// parameters are ignored, as the gateway does.
//
// An unknown EnterpriseId or TaskId is a business error, as VMS reports
// those: HTTP 200 with body {"RequestId","Message","Code"} and Code
// "isv.INVALID_PARAMETERS", no Data.
//
// # Accounts and STS
//
// Config.Accounts are further Alibaba Cloud accounts (accounts.go), each
// with its own key pairs, the enterprises it owns and RAM roles; the
// top-level credentials are the account DefaultAccount, which owns every
// enterprise no account lists. A key reads only its own account's
// enterprises. STSHandler (sts.go) is AssumeRole as the vendor's credential
// library speaks it, served over https (LoopbackCertificate): a role is
// assumed by keys of the accounts its trust list names, with its external
// id, and the temporary key issued reads the role account's enterprises
// until it expires (a role's lifetime can be made short for tests).
// Fault rules with action AssumeRole apply to STS, and only those.
//
// # Model
//
// Each task runs a predictive dialler: it keeps dial_ratio customers in
// progress per idle agent, within min(concurrency, enterprise channels).
// Tasks do not compete for the enterprise's channels, which keeps every task
// independent and lazily simulated. A dialled customer answers with
// answer_probability after 3-15 s of ringing, or is busy (1-3 s) or gives
// no answer (30 s). An answering customer is routed to the agent idle
// longest; if none is free within 2 s the call overflows to the IVR
// (IvrCount), as it does when the rung agent does not pick up within 15 s
// (NoBridgeCount). Talk times are Erlang-2 around talk_mean, wrap-up
// exponential around wrapup_mean, agents take breaks (statePause) about
// every pause_every for pause_mean. Automatic tasks (type 2) fill their
// channels and send answering customers to the IVR.
//
// Agents are "" (not used) while their task is not running, when the
// agents_offline scenario holds, and once they reached CallLimit (their
// TodayAnsweredCount) or EnterpriseCallLimit (their
// EnterpriseTodayAnsweredCount, which also counts answers in other tasks of
// the enterprise) until midnight. So AvailableCount is exactly the agents
// the dialler counts on.
//
// Per-agent figures: CalledCount is calls offered (rung), BridgeCount
// answered, NoBridgeCount missed, all since the task began; AvgBridgeTime
// is the mean talk time of finished calls in whole seconds, as a string;
// AgentAvgIdleTime is idle seconds per offered call; BridgeIn2sRate is the
// fraction (0..1, four decimals) of the agent's answered calls picked up
// within 2 s of ringing. The vendor's example shows 3.55, which fits no
// ratio; this simulator documents its own reading.
//
// Task figures: Statistic counts since the task began, TodayStatistic
// since local midnight (UncalledCount and AgentCount are the same in both).
// CallAgentCount is calls offered to agents. Today counters reset at
// midnight in the configured timezone (default Asia/Shanghai), where times
// are also written ("2006-01-02 15:04:05", "" for never). A task whose
// number list is used up finishes (status 3, "号码呼完", OverTime set) once
// its last call ends. AgentInfo and ChannelInfo are counted from the same
// agents and calls as the lists, so they agree by construction:
// ChannelCount = WaitAnswerCount + AnswerCount, AnswerCount =
// WaitAgentCount + BridgedCount + IvrCount, BridgedCount = AgentInfo
// BridgeCount.
//
// Time moves in whole simulated seconds, lazily: a task is advanced to the
// clock (times speed) only when asked about, skipping seconds in which
// nothing can happen, from its own random source seeded by (seed,
// enterprise, task). The answer for a given second is thus the same
// whatever was asked before; with the same seed and clock two simulators
// answer byte for byte the same (request ids come from the seed and a
// request counter).
//
// # The whole call centre
//
// An enterprise with an inbound section (callcentre.go) has queues fed by
// hotlines with Poisson arrivals; a caller spends a while in the IVR (some
// end there), then waits in the queue for an agent who is idle in one of
// the enterprise's tasks: one pool of agents, which the tasks' outbound
// calls and the queues share, advanced together under the enterprise's
// lock so that every operation sees the same agents at the same second. A
// caller hangs up when his patience runs out (15, abandoned in the queue),
// overflows at the queue's timeout (16), is not queued with no agent
// online (18) or a full queue (19). CloudListOnlineAgent lists every agent
// CloudMonitorTask shows with a state, in that state (LoginStatus,
// DeviceStatus, State in Chinese; no paging); CloudListQueue the queues'
// configuration (Offset/Limit up to 500, with Total); CloudQueryIbCdr the
// inbound records as CloudQueryPredictiveCallCdr does the predictive ones
// (month-bounded windows, 1,000 a page, no total, times strings of Unix
// seconds, "" for a moment that never came, LeaveQueueCode a number, Qno
// "-1" or "" for no queue), a record visible once its call has ended.
//
// # Call records
//
// CloudQueryPredictiveCallCdr (cdr.go) answers the records of a predictive
// task's calls (or all the enterprise's, without TaskId) whose start
// (TimeRangeType 1, default) or end (2) lies in [StartTime, EndTime], Unix
// seconds, both inclusive, default the current month; sorted by that time,
// a page of Limit (default 10, at most 1000) from Start, no total. A window
// across a calendar month of the API's zone (Asia/Shanghai, whatever the
// call centre's timezone), or ending before it starts,
// is a business error (200 isv.INVALID_PARAMETERS). Every call writes its
// record when it ends, from the same call the counters moved with, so the
// records of a day agree with TodayStatistic (cdr_test.go checks it); a
// customer who answered and overflowed to the IVR is a record with no
// BridgeTime, one bridged after more than 2 s waited for a slow agent.
// Every scalar is a string, as the vendor's SDK types them (TaskId now and
// then a number); the personal fields hold made-up numbers. A task keeps
// max_call_records (default 20,000) records. Records are written on the
// requester's clock: a record's times are shifted so that its end is the
// second of the clock in which its simulated call ended, its durations
// kept in simulated seconds; a poller on its own clock then sees each
// record once at any speed, in the window that holds its EndTime.
//
// # Faults and scenarios
//
// Faults (Config.Faults, SetFaults, /admin/faults) are rules of a kind
// (throttle, unavailable, internal, error, latency, malformed, truncated,
// oversize, strings, duplicate_cno, and for call records late_record,
// duplicate_record, id_forms, replay, page_size and reorder) matching an action, enterprise and task
// (0 or "" for any) with a probability. Draws are a hash of the seed, the
// request number and the rule, so a run is reproducible. A throttle answers
// 400 Throttling.User with "x-ratelimit-user-api: Limit:10,Remain:0,
// TimeLeft:<ms>,Reset:<unix ms>", the form the official SDK parses for its
// retry delay. late_record hides a record (drawn per record with the
// rule's probability) until delay (default 10m) after its call ended;
// duplicate_record shifts the list by one before each page, so every page
// after the first starts with the previous page's last record. The hostile
// kinds test the poller's promises: id_forms writes a record's UniqueId and
// CallId now empty, now an object, and its Id now a number (drawn per
// record and request; the Id is always there); replay adds to a page the
// count (default 5) latest records that ended in the hour before the
// window; page_size answers half a page or one and a half; reorder shuffles
// the window's list for that request, so its pages disagree with those of
// other requests. Fixtures
// are served verbatim: every fault but strings and
// duplicate_cno applies to them.
//
// Scenarios (Config.Scenarios, Scenario, /admin/scenario) switch a task at
// once: agents_pause / agents_resume (customers then wait and overflow to
// the IVR), agents_offline / agents_online, task_pause, task_run,
// task_finish. The agents_* scenarios with task 0 switch every task of the
// enterprise: its whole floor, so that its inbound callers wait, abandon
// and overflow too (the queues' service level falls).
//
// # Admin endpoints
//
// AdminHandler serves GET/PUT /admin/faults, POST /admin/scenario and
// GET/DELETE /admin/stats, JSON in and out, without authentication: keep it
// on loopback.
package simulator
