package srs

import (
	"errors"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
)

// Sentinels for why a read or a kick failed; match them with errors.Is.
var (
	// ErrNoPodIP: the pod has no IP yet, so its API cannot be reached.
	ErrNoPodIP = podhttp.ErrNoPodIP
	// ErrStatus: the API answered a non-2xx HTTP status.
	ErrStatus = errors.New("unexpected HTTP status")
	// ErrBodyTooLarge: the answer was longer than MaxBody.
	ErrBodyTooLarge = podhttp.ErrBodyTooLarge
	// ErrCode: the answer carried a non-zero SRS error code.
	ErrCode = errors.New("SRS error code")
	// ErrBadResponse: the answer was not the JSON SRS sends, or held an invalid number.
	ErrBadResponse = errors.New("bad SRS response")
	// ErrListTooLong: a list of clients or streams was longer than the bound; counts
	// would be wrong and kicks incomplete.
	ErrListTooLong = errors.New("list longer than the bound")
)

// codeClientNotFound is ERROR_RTMP_CLIENT_NOT_FOUND (srs_kernel_error.hpp): SRS answers
// it, with HTTP 200, to a request for a client id it does not know.
const codeClientNotFound = 2049
