package simulator

import "time"

// DemoConfig is a small call centre with moving numbers for demos and
// dashboards: three enterprises, six tasks covering the four statuses (one
// of them automatic, without agents), 5 to 30 agents per predictive task,
// inbound traffic on enterprise 7000002 (DemoInbound), reachable with the
// one key pair given.
func DemoConfig(cred Credential) Config {
	d := func(v time.Duration) Duration { return Duration(v) }
	return Config{
		Seed:        1,
		Speed:       1,
		Credentials: []Credential{cred},
		Enterprises: []Enterprise{
			{ID: 7000002, Channels: 60, Tasks: []Task{
				{ID: 19, Name: "回访任务", Status: intp(statusRunning), StartedAgo: d(90 * time.Minute),
					Numbers: intp(20000), Agents: intp(30), RemovedAgents: 2, DialRatio: 1.8,
					AnswerProbability: floatp(0.4), TalkMean: d(100 * time.Second), WrapupMean: durp(20 * time.Second)},
				{ID: 20, Name: "满意度调查", Status: intp(statusRunning), StartedAgo: d(40 * time.Minute),
					Numbers: intp(1500), Agents: intp(8), DialRatio: 2.2, CallLimit: intp(40),
					AnswerProbability: floatp(0.3), TalkMean: d(60 * time.Second), WrapupMean: durp(10 * time.Second)},
				{ID: 21, Name: "账单通知", Type: 2, Status: intp(statusRunning), StartedAgo: d(20 * time.Minute),
					Numbers: intp(8000), Agents: intp(0), Concurrency: 20,
					AnswerProbability: floatp(0.5), TalkMean: d(35 * time.Second)},
			}, Inbound: DemoInbound()},
			{ID: 7000003, Channels: 20, CallLimit: intp(60), Tasks: []Task{
				{ID: 31, Name: "续费营销", Status: intp(statusPaused), StartedAgo: d(2 * time.Hour),
					Numbers: intp(5000), Agents: intp(12), RemovedAgents: 1, DialRatio: 1.5,
					AnswerProbability: floatp(0.35), TalkMean: d(150 * time.Second), WrapupMean: durp(30 * time.Second)},
				{ID: 32, Name: "预约确认", Status: intp(statusRunning), StartedAgo: d(3 * time.Hour),
					Numbers: intp(600), Agents: intp(5), DialRatio: 1.6,
					AnswerProbability: floatp(0.45), TalkMean: d(45 * time.Second), WrapupMean: durp(5 * time.Second)},
			}},
			{ID: 7000004, Channels: 10, Tasks: []Task{
				{ID: 41, Name: "活动邀约", Status: intp(statusInitial), Numbers: intp(3000), Agents: intp(6)},
			}},
		},
	}
}

// DemoInbound is enterprise 7000002's inbound traffic in the demo: three
// hotlines, each feeding one queue, answered by the agents of its outbound
// tasks 19 and 20 (one pool: an agent on an inbound call is busy in his
// task). The service-level thresholds (20 s, 30 s) are edges of the
// exporter's answer-wait buckets, so the service-level rules have a value.
// The arrival rates keep the service level well above 80 % in steady state
// (TestDemoServiceLevel); pausing the floor (agents_pause with task 0)
// makes it fall below (TestDemoFloorPauseLowersServiceLevel). The wait the
// records give includes the IVR, hence its short mean.
func DemoInbound() *Inbound {
	d := func(v time.Duration) Duration { return Duration(v) }
	return &Inbound{
		TalkMean: d(150 * time.Second),
		IVRMean:  d(4 * time.Second),
		IVROnly:  floatp(0.04),
		Queues: []InboundQueue{
			{Qno: "2001", Name: "售后服务", Hotline: "4008002001", CallsPerHour: 90,
				ServiceLevel: d(20 * time.Second), Timeout: d(120 * time.Second), Patience: d(60 * time.Second)},
			{Qno: "2002", Name: "投诉建议", Hotline: "4008002002", CallsPerHour: 30,
				ServiceLevel: d(30 * time.Second), Timeout: d(180 * time.Second), Patience: d(90 * time.Second), MaxLen: 20},
			{Qno: "2003", Name: "VIP 专线", Hotline: "4008002003", CallsPerHour: 15,
				ServiceLevel: d(20 * time.Second), Timeout: d(60 * time.Second), Patience: d(45 * time.Second)},
		},
	}
}

// Demo accounts: DemoAccountsConfig moves enterprise 7000003 to the
// account DemoAccountName, which the default key reads through the role
// DemoRoleName with the external id given (the cross-account pattern).
const (
	DemoAccountName = "client-b"
	DemoAccountUID  = "1000000000000003"
	DemoRoleName    = "dyvms-reader"
)

// DemoAccountsConfig is DemoConfig with two accounts: the default one
// (cred) owns 7000002 and 7000004, DemoAccountName owns 7000003 and is
// reached only through its role.
func DemoAccountsConfig(cred Credential, externalID string) Config {
	cfg := DemoConfig(cred)
	cfg.Accounts = []Account{{
		Name: DemoAccountName, UID: DemoAccountUID, Enterprises: []int64{7000003},
		Roles: []Role{{Name: DemoRoleName, ExternalID: externalID, Trust: []string{DefaultAccount}}},
	}}
	return cfg
}

// DemoRoleARN is the ARN of the demo account's role.
func DemoRoleARN() string { return "acs:ram::" + DemoAccountUID + ":role/" + DemoRoleName }
