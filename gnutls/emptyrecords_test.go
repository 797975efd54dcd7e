package gnutls

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/tlsrecord"
)

// Warning alerts: user_canceled and no_renegotiation.
var (
	userCanceled    = []byte{1, 90}
	noRenegotiation = []byte{1, 100}
)

// A record sequence a hostile peer writes: payloads of type typ.
type recordRun []struct {
	typ     byte
	payload []byte
}

func (run recordRun) write(c *tlsrecord.Conn) error {
	for _, r := range run {
		if err := c.WriteRecord(r.typ, r.payload); err != nil {
			return err
		}
	}
	return nil
}

// data is the application data in run.
func (run recordRun) data() string {
	var s string
	for _, r := range run {
		if r.typ == tlsrecord.ApplicationData {
			s += string(r.payload)
		}
	}
	return s
}

// empties is n records that carry nothing: empty application data, or
// warning alerts under TLS 1.2.
func empties(n int, warnings bool) recordRun {
	run := make(recordRun, n)
	for i := range run {
		run[i].typ = tlsrecord.ApplicationData
		if warnings {
			run[i].typ, run[i].payload = tlsrecord.Alert, userCanceled
		}
	}
	return run
}

func dataRecord(s string) recordRun {
	return recordRun{{tlsrecord.ApplicationData, []byte(s)}}
}

// readPastRuns are record sequences Read reads through to their data.
var readPastRuns = []struct {
	name     string
	only12   bool // warnings exist in TLS 1.2 alone
	run      recordRun
	warnings bool
}{
	{"warnings between data", true, slices.Concat(dataRecord("a"), recordRun{{tlsrecord.Alert, userCanceled}},
		dataRecord("b"), recordRun{{tlsrecord.Alert, noRenegotiation}}, dataRecord("c")), true},
	// Data first: a TLS 1.3 client has taken in a session ticket, which
	// counts too, by its size.
	{"MaxEmptyRecords warnings, data, again", true, slices.Concat(dataRecord("w"), empties(MaxEmptyRecords, true),
		dataRecord("x"), empties(MaxEmptyRecords, true), dataRecord("y")), true},
	{"MaxEmptyRecords empty records, data, again", false, slices.Concat(dataRecord("w"), empties(MaxEmptyRecords, false),
		dataRecord("x"), empties(MaxEmptyRecords, false), dataRecord("y")), false},
}

// A TLS 1.2 warning alert other than close_notify, and records that carry
// no data, are read past, in both roles and on every transport, as
// crypto/tls does: MaxEmptyRecords of them in a row are allowed.
func TestReadPastWarningsAndEmptyRecords(t *testing.T) {
	for _, v := range alertVersions {
		for _, tc := range readPastRuns {
			if tc.only12 && v.tls13 {
				continue
			}
			t.Run(v.name+"/"+tc.name, func(t *testing.T) {
				want := tc.run.data()
				for _, w := range socketKinds {
					t.Run("server "+w.name, func(t *testing.T) {
						checkLeaks(t)
						addr, served := echoServerOver(t, w.wrap)
						c, raw, err := hostileClient(t, addr, v)
						if err != nil {
							t.Fatal(err)
						}
						if err := tc.run.write(c); err != nil {
							t.Fatal(err)
						}
						got, err := readData(c, len(want))
						if err != nil || string(got) != want {
							t.Fatalf("echo %q, %v; want %q", got, err, want)
						}
						raw.Close()
						if err := <-served; err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
							t.Fatalf("server: %v", err)
						}
					})
				}
				for _, tr := range transports {
					t.Run("client "+tr.name, func(t *testing.T) {
						checkLeaks(t)
						c, raw, clientErr, err := hostileServerFor(t, v, tr.dial, func(c *Conn) error {
							got := make([]byte, len(want))
							if _, err := io.ReadFull(c, got); err != nil {
								return err
							}
							if string(got) != want {
								return errors.New("read " + string(got))
							}
							return nil
						})
						if err != nil {
							t.Fatal(err)
						}
						if err := tc.run.write(c); err != nil {
							t.Fatal(err)
						}
						if err := <-clientErr; err != nil {
							t.Fatalf("client: %v", err)
						}
						alerts, err := alertsUntilEnd(raw, c)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(alerts, [][2]byte{{1, 0}}) {
							t.Fatalf("alerts %v, want close_notify alone", alerts)
						}
					})
				}
			})
		}
	}
}

// One record more than MaxEmptyRecords that carries nothing ends Read
// with ErrEmptyRecords, and the peer receives unexpected_message (as from
// crypto/tls) and nothing after it.
func TestTooManyEmptyRecords(t *testing.T) {
	wantAlerts := [][2]byte{{2, 10}}
	check := func(t *testing.T, alerts [][2]byte, readErr error) {
		t.Helper()
		if !slices.Equal(alerts, wantAlerts) {
			t.Errorf("alerts %v, want %v (unexpected_message)", alerts, wantAlerts)
		}
		if !errors.Is(readErr, ErrEmptyRecords) || !errors.Is(readErr, ErrUnexpectedPacket) {
			t.Errorf("Read: %v, want ErrEmptyRecords", readErr)
		}
	}
	for _, v := range alertVersions {
		for _, warnings := range []bool{false, true} {
			if warnings && v.tls13 {
				continue
			}
			name := v.name + "/empty records"
			if warnings {
				name = v.name + "/warnings"
			}
			t.Run(name, func(t *testing.T) {
				run := slices.Concat(dataRecord("a"), empties(MaxEmptyRecords+1, warnings))
				act := func(c *tlsrecord.Conn, _ alertVersion) error { return run.write(c) }
				for _, w := range socketKinds {
					t.Run("server "+w.name, func(t *testing.T) {
						checkLeaks(t)
						addr, served := echoServerOver(t, w.wrap)
						alerts, err := alertsFromServer(t, addr, v, act)
						if err != nil {
							t.Fatal(err)
						}
						check(t, alerts, <-served)
					})
				}
				for _, tr := range transports {
					t.Run("client "+tr.name, func(t *testing.T) {
						checkLeaks(t)
						alerts, readErr, err := alertsFromClient(t, v, tr.dial, act)
						if err != nil {
							t.Fatal(err)
						}
						check(t, alerts, readErr)
					})
				}
			})
		}
	}
}

// ticketMessage is a TLS 1.3 NewSessionTicket handshake message carrying
// a ticket of n bytes.
func ticketMessage(n int) []byte {
	body := newSessionTicket(3600, []byte{0}, randomBytes(n))
	return append([]byte{4, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// splitMessage is msg sent as handshake records of at most size bytes.
func splitMessage(msg []byte, size int) recordRun {
	var run recordRun
	for len(msg) > 0 {
		n := min(size, len(msg))
		run = append(run, recordRun{{tlsrecord.Handshake, msg[:n]}}...)
		msg = msg[n:]
	}
	return run
}

// A handshake message split over many records (legal: RFC 8446 section
// 5.1) is a message, not records without data: a TLS 1.3 client reads
// past a NewSessionTicket in 1-byte records to the data after it, on
// every transport, while records that carry nothing still count towards
// MaxEmptyRecords.
func TestSplitHandshakeRecords(t *testing.T) {
	v := alertVersions[0]
	ticket := ticketMessage(200)
	cases := []struct {
		name    string
		run     recordRun
		wantErr error
	}{
		{"ticket in 1-byte records", slices.Concat(splitMessage(ticket, 1), dataRecord("a")), nil},
		{"two tickets in 7-byte records", slices.Concat(splitMessage(ticket, 7), splitMessage(ticket, 7), dataRecord("a")), nil},
		{"empty records around a split ticket", slices.Concat(empties(MaxEmptyRecords/2, false), splitMessage(ticket, 1),
			empties(MaxEmptyRecords/2-1, false), dataRecord("a")), nil},
		{"split ticket, then too many empty records", slices.Concat(splitMessage(ticket, 1),
			empties(MaxEmptyRecords+1, false), dataRecord("a")), ErrEmptyRecords},
	}
	for _, tc := range cases {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				checkLeaks(t)
				c, raw, clientErr, err := hostileServerFor(t, v, tr.dial, func(c *Conn) error {
					got := make([]byte, 1)
					if _, err := io.ReadFull(c, got); err != nil {
						return err
					}
					if string(got) != "a" {
						return errors.New("read " + string(got))
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				werr := tc.run.write(c)
				err = <-clientErr
				raw.Close()
				if werr != nil && tc.wantErr == nil {
					t.Fatalf("writing the records: %v (client: %v)", werr, err)
				}
				if tc.wantErr == nil && err != nil {
					t.Fatalf("client: %v", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("client: %v, want %v", err, tc.wantErr)
				}
			})
		}
	}
}
