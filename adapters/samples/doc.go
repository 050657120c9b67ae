// Package samples holds the sample hygiene every metrics source shares: a sample that is
// older than the staleness bound, NaN, infinite, negative or above its metric's per-pod
// ceiling is missing, and missing is never zero. Sources collect raw samples, mark those
// they could not read with a problem, and call Collect, which says per pod why samples
// were left out. It never imports autoscaler.
package samples
