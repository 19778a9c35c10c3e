package api

import "net/http"

// Error is the body of every 4xx and 5xx answer of the API, in
// Determined's shape: the gRPC status code, the message, and the same
// again with the HTTP status for clients that read that part.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Details []any      `json:"details"`
	Error   ErrorInner `json:"error"`
}

// ErrorInner is the "error" part of an Error: the HTTP status, its text
// and the message.
type ErrorInner struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// NewError is the error answer of HTTP status code with message msg.
func NewError(code int, msg string) Error {
	return Error{Code: GRPCCode(code), Message: msg, Details: []any{},
		Error: ErrorInner{Code: code, Reason: http.StatusText(code), Error: msg}}
}

// Text is an error answer's message: Message, else the inner error's.
func (e Error) Text() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Error.Error
}

// gRPC status codes, by number (google.golang.org/grpc/codes).
const (
	grpcUnknown            = 2
	grpcInvalidArgument    = 3
	grpcDeadlineExceeded   = 4
	grpcNotFound           = 5
	grpcAlreadyExists      = 6
	grpcPermissionDenied   = 7
	grpcResourceExhausted  = 8
	grpcFailedPrecondition = 9
	grpcUnimplemented      = 12
	grpcInternal           = 13
	grpcUnavailable        = 14
	grpcUnauthenticated    = 16
)

var grpcCodes = map[int]int{
	http.StatusBadRequest:            grpcInvalidArgument,
	http.StatusUnauthorized:          grpcUnauthenticated,
	http.StatusForbidden:             grpcPermissionDenied,
	http.StatusNotFound:              grpcNotFound,
	http.StatusMethodNotAllowed:      grpcUnimplemented,
	http.StatusRequestTimeout:        grpcDeadlineExceeded,
	http.StatusConflict:              grpcAlreadyExists,
	http.StatusGone:                  grpcFailedPrecondition,
	http.StatusPreconditionFailed:    grpcFailedPrecondition,
	http.StatusRequestEntityTooLarge: grpcResourceExhausted,
	http.StatusRequestURITooLong:     grpcInvalidArgument,
	http.StatusMisdirectedRequest:    grpcInvalidArgument,
	http.StatusTooManyRequests:       grpcResourceExhausted,
	http.StatusInternalServerError:   grpcInternal,
	http.StatusNotImplemented:        grpcUnimplemented,
	http.StatusBadGateway:            grpcUnavailable,
	http.StatusServiceUnavailable:    grpcUnavailable,
	http.StatusGatewayTimeout:        grpcDeadlineExceeded,
}

// GRPCCode is the gRPC status code that Determined's gateway answers with
// HTTP status code (Unknown for one it has none for).
func GRPCCode(code int) int {
	if c, ok := grpcCodes[code]; ok {
		return c
	}
	if code >= 400 && code < 500 {
		return grpcInvalidArgument
	}
	return grpcUnknown
}
