package ops

// Capabilities are what actions act through, keyed by source name
// (Request.Source, Plan.Source): each value is the source itself, or
// anything else that implements the capability interface its area's handler
// declares (BackendSignaler, RolloutController, Silencer, …). A handler
// asks for the interface it needs with Capability, so a new area needs no
// new field here. The map is built once per world and only read after.
type Capabilities map[string]any
