package kit

// ShowLogsMsg opens the log view of Target — a deployment
// ("production/nudgecampaign-api") or an ECS service
// ("us-east-1/nudgecampaign-production/api") — with Filter in force (a
// runbook's logs step). The log feature resolves the target from the
// latest snapshots.
type ShowLogsMsg struct {
	Target string
	Filter string
}
