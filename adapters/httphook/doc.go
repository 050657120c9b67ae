// Package httphook is the httpHook evictor: at a tombstoned pod's drain timeout it asks
// an HTTP endpoint on the pod itself to move the streams it still carries (for example
// by telling the players to reconnect elsewhere, or by handing publishers over), and
// returns how many it moved. It is generic: the media server, or a sidecar beside it,
// implements the hook. It never imports autoscaler, which it satisfies implicitly.
//
// The exchange, one POST per Evict:
//
//	POST http://<pod IP>:<Port><Path>    Content-Type: application/json
//	{"policy": "<namespace>/<name>", "pod": "<pod name>", "streamsLeft": 12}
//
//	200 OK                               (any 2xx)
//	{"moved": 12}
//
// A non-2xx status, a body that is not that JSON, a "moved" that is missing, fractional,
// negative, or absurd (more than streamsLeft*10+1000), or a body over MaxBody is an
// error; the controller then keeps the pod and calls the hook again on its next pass,
// so the hook must be idempotent.
package httphook
