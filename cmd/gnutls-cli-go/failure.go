package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// describe turns an error into the one line that names its cause. Name
// resolution, connecting and the files are described where they fail.
func describe(err error) string {
	var (
		gerr *gnutls.Error
		f    *failure
		perr *gnutls.PSKError
	)
	switch {
	case errors.As(err, &f):
		return f.Error()
	case errors.As(err, &perr):
		return fmt.Sprintf("PSK identity %q: %s: %s", perr.Identity, perr.Failure, describe(perr.Err))
	case errors.As(err, &gerr) && gerr.Verify != nil:
		return "certificate rejected: " + gerr.Verify.Reason
	case errors.As(err, &gerr) && gerr.Alert != nil:
		kind := "warning"
		if gerr.Alert.Fatal {
			kind = "fatal"
		}
		return fmt.Sprintf("%s failed: the server sent the %s alert %q", opName(gerr.Op), kind, gerr.Alert.Description.String())
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out: " + err.Error()
	case errors.As(err, &gerr) && gerr.Code == gnutls.ErrPremature:
		return fmt.Sprintf("%s failed: the server closed the connection without close_notify", opName(gerr.Op))
	case errors.As(err, &gerr):
		msg := fmt.Sprintf("%s failed: %s (%s)", opName(gerr.Op), gerr.Code.Message(), gerr.Code.Name())
		if gerr.Err != nil {
			msg += ": " + gerr.Err.Error()
		}
		return msg
	}
	return err.Error()
}

func opName(op string) string {
	if op == "" {
		return "TLS"
	}
	return op
}

// failure is an error whose text already says everything.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func failf(format string, a ...any) error { return &failure{fmt.Sprintf(format, a...)} }

// badPriority names a priority string GnuTLS refused.
func badPriority(err error) error {
	var pe *gnutls.PriorityError
	if errors.As(err, &pe) {
		return failf("bad --priority: %s", pe.Reason())
	}
	return failf("bad --priority: %v", err)
}
