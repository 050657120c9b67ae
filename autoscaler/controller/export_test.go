package controller

// TargetIndex and TargetOf let the fake clients of the tests index policies by the
// CloneSet they name, as the manager's cache does.
var (
	TargetIndex = targetIndex
	TargetOf    = targetOf
)
