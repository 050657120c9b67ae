// Package events reads a schedule of known events (matches, shows, launches) from a CSV
// file into the ScalingPolicy's prediction.events, for the simulate and sweep commands.
// The form is v1alpha1.ParseEvents', the same as a policy's events ConfigMap.
package events

import (
	"fmt"
	"io"
	"os"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Load reads the schedule at path.
func Load(path string) ([]v1alpha1.ScheduledEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a schedule; name is the file's name in errors. A header with no event
// after it is an error: a file given to replay holds the events to replay.
func Parse(r io.Reader, name string) ([]v1alpha1.ScheduledEvent, error) {
	out, err := v1alpha1.ParseEvents(r, name)
	if err == nil && len(out) == 0 {
		return nil, fmt.Errorf("%s: no events after the header", name)
	}
	return out, err
}
