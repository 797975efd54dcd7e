package cliopts

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type settings struct {
	verbose, resume bool
	port            string
}

var table = []Option[settings]{
	{Short: "V", Long: "verbose", Help: "more", Set: func(s *settings, _ string) error { s.verbose = true; return nil }},
	{Short: "r", Long: "resume", Help: "resume", Set: func(s *settings, _ string) error { s.resume = true; return nil }},
	{Short: "p", Long: "port", Arg: "PORT", Help: "port", Set: func(s *settings, v string) error {
		if v == "" {
			return errors.New("empty value")
		}
		s.port = v
		return nil
	}},
}

// Each form of an option sets the same thing; with operands, the other
// arguments come back in order and "--" ends the options.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		operands bool
		want     settings
		rest     []string
	}{
		{[]string{"--port=1", "-rV"}, false, settings{verbose: true, resume: true, port: "1"}, nil},
		{[]string{"--port", "2", "-r"}, false, settings{resume: true, port: "2"}, nil},
		{[]string{"-p3"}, false, settings{port: "3"}, nil},
		{[]string{"-Vp", "4"}, false, settings{verbose: true, port: "4"}, nil},
		{[]string{"host", "-V", "-", "--", "-r"}, true, settings{verbose: true}, []string{"host", "-", "-r"}},
	} {
		var s settings
		rest, err := Parse(table, &s, tc.args, tc.operands)
		if err != nil || s != tc.want || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("%q: %+v, %q, %v; want %+v, %q", tc.args, s, rest, err, tc.want, tc.rest)
		}
	}
}

// Each mistake is a *UsageError naming the option or argument.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		operands bool
		want     string
	}{
		{[]string{"--bogus"}, true, "unknown option --bogus"},
		{[]string{"-x"}, true, "unknown option -x"},
		{[]string{"--verbose=1"}, true, "--verbose takes no value"},
		{[]string{"--port"}, true, "--port needs a value (PORT)"},
		{[]string{"-Vp"}, true, "-p needs a value (PORT)"},
		{[]string{"--port="}, true, "--port: empty value"},
		{[]string{"host"}, false, `"host" is not an option: all arguments must be options`},
		{[]string{"--"}, false, `"--" is not an option: all arguments must be options`},
	} {
		var s settings
		_, err := Parse(table, &s, tc.args, tc.operands)
		var ue *UsageError
		if !errors.As(err, &ue) || err.Error() != tc.want {
			t.Errorf("%q: %v; want the usage error %q", tc.args, err, tc.want)
		}
	}
}

func TestPrintOptions(t *testing.T) {
	var b bytes.Buffer
	PrintOptions(&b, table)
	want := []string{
		"  -V, --verbose                  more",
		"  -r, --resume                   resume",
		"  -p, --port=PORT                port",
	}
	if got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
