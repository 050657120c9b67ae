// Package predictor forecasts one load series (streams, bandwidth, requests) a short
// horizon ahead, so that the autoscaler can scale out before a surge instead of after.
//
// It owns the forecasting models (additive and multiplicative Holt-Winters, each
// also with a damped trend; simple exponential smoothing, on the series and on
// log(1+y); Holt's damped trend; a least-squares linear trend; seasonal naive and last
// value), season detection by autocorrelation, model choice by a rolling-origin
// backtest, and the upper band that the autoscaler sizes on: the point forecast plus a
// quantile of the chosen model's backtest residuals at each step ahead. Fit is the
// expensive part and is meant to run now and then; Predictor.Update and
// Predictor.UpperMax are O(1) and O(horizon) and are meant to run at every decision.
//
// Series are plain []float64 on a fixed step: resampling, clocks and storage belong to
// the caller. The package is pure: it never calls time.Now, and it must not import
// Kubernetes, Prometheus, or this module's autoscaler and statemachine packages.
package predictor
