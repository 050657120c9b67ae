// Package plot renders time series as PNG charts for simulator reports and
// for people reading a replayed trace: panels stacked vertically, one legend
// each, sharing the same plotting width so their x axes line up.
//
// It owns chart layout, colours and the downsampling that keeps large traces
// fast to draw; it is built on gonum.org/v1/plot.
//
// It is an I/O adapter: it must not import anything under
// github.com/streamscaler/streamscaler/autoscaler, statemachine or predictor.
// Callers turn their data into plain X/Y slices.
package plot
