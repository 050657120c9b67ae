package plot

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
)

// wave is a daily-looking load curve with one flash crowd, n points.
func wave(n int, scale float64) (x, y []float64) {
	x, y = make([]float64, n), make([]float64, n)
	for i := range n {
		x[i] = float64(i) / 60 // hours
		y[i] = scale * (1.5 + math.Sin(2*math.Pi*x[i]/24))
		if i == n*2/3 {
			y[i] *= 8
		}
	}
	return x, y
}

func twoPanels() []Panel {
	x, load := wave(20000, 1000) // long enough to be downsampled
	_, forecast := wave(20000, 900)
	for i := 5000; i < 5100; i++ {
		forecast[i] = math.NaN() // a gap
	}
	rx, replicas := wave(300, 10)
	return []Panel{
		{
			Title: "viewers", XLabel: "hours", YLabel: "viewers",
			Lines: []Line{{Name: "load", X: x, Y: load}, {Name: "forecast", X: x, Y: forecast, Dashed: true}},
		},
		{
			Title: "replicas", XLabel: "hours", YLabel: "pods",
			Lines: []Line{{Name: "replicas", X: rx, Y: replicas}},
		},
	}
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return img
}

// colours counts the distinct colours of img.
func colours(img image.Image) map[color.RGBA]int {
	seen := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	return seen
}

func TestWritePNG(t *testing.T) {
	tests := []struct {
		name                string
		width, panelHeight  int
		wantWidth, wantHigh int
	}{
		{"defaults are 1400 wide and 320 per panel", 0, 0, 1400, 640},
		{"explicit size is exact in pixels", 801, 203, 801, 406},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chart.png")
			if err := WritePNG(path, twoPanels(), tc.width, tc.panelHeight); err != nil {
				t.Fatalf("WritePNG: %v", err)
			}
			img := decode(t, path)
			if b := img.Bounds(); b.Dx() != tc.wantWidth || b.Dy() != tc.wantHigh {
				t.Fatalf("image is %dx%d; want %dx%d", b.Dx(), b.Dy(), tc.wantWidth, tc.wantHigh)
			}
			seen := colours(img)
			if len(seen) < 10 {
				t.Fatalf("image has only %d colours; expected a drawn chart", len(seen))
			}
			// Each line has its own colour, and both panels were drawn.
			for i := range 2 {
				c := color.RGBAModel.Convert(plotutil.Color(i)).(color.RGBA)
				if seen[c] == 0 {
					t.Errorf("line colour %d %v does not appear", i, c)
				}
			}
			top, bottom := image.Rect(0, 0, tc.wantWidth, tc.wantHigh/2), image.Rect(0, tc.wantHigh/2, tc.wantWidth, tc.wantHigh)
			for _, half := range []image.Rectangle{top, bottom} {
				sub := img.(interface {
					SubImage(image.Rectangle) image.Image
				}).SubImage(half)
				if n := len(colours(sub)); n < 5 {
					t.Errorf("panel %v has only %d colours", half, n)
				}
			}
		})
	}
}

func TestWritePNGRejects(t *testing.T) {
	ok := Line{Name: "ok", X: []float64{0, 1}, Y: []float64{1, 2}}
	one := func(lines ...Line) []Panel { return []Panel{{Title: "load", Lines: lines}} }
	tests := []struct {
		name        string
		panels      []Panel
		width, high int
		want        []string
	}{
		{"no panels", nil, 0, 0, []string{"no panels"}},
		{"panel without lines", []Panel{{Title: "empty"}}, 0, 0, []string{`panel 0 ("empty"): no lines`}},
		{"X and Y of different length", one(ok, Line{Name: "short", X: []float64{0, 1, 2}, Y: []float64{1, 2}}), 0, 0,
			[]string{`panel 0 ("load")`, `line 1 ("short")`, "X has 3 points, Y has 2"}},
		{"line with no points", one(Line{Name: "none"}), 0, 0, []string{`line 0 ("none"): no finite points`}},
		{"line of NaN only", one(Line{Name: "nan", X: []float64{0, 1}, Y: []float64{math.NaN(), math.NaN()}}), 0, 0,
			[]string{"no finite points"}},
		{"infinite value", one(Line{Name: "inf", X: []float64{0, 1}, Y: []float64{1, math.Inf(1)}}), 0, 0,
			[]string{"point 1 is infinite"}},
		{"width too small", one(ok), 50, 0, []string{"width 50 px is below 200"}},
		{"negative width", one(ok), -1400, 0, []string{"width -1400 px"}},
		{"panel height too small", one(ok), 0, 40, []string{"panel height 40 px is below 120"}},
		{"image too large", one(ok), 20000, 2001, []string{"more than 40000000 pixels"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chart.png")
			err := WritePNG(path, tc.panels, tc.width, tc.high)
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error %v; want ErrBadInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not mention %q", err, w)
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a file was written despite the error")
			}
		})
	}

	t.Run("unwritable path", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing-dir", "chart.png")
		err := WritePNG(path, one(ok), 0, 0)
		if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "writing chart: ") {
			t.Fatalf("error %v; want a fs.ErrNotExist while writing chart", err)
		}
	})
}

func TestSegments(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		x, y []float64
		want []int // points per drawn segment
	}{
		{"no gaps is one segment", []float64{0, 1, 2}, []float64{1, 2, 3}, []int{3}},
		{"NaN in Y splits the line", []float64{0, 1, 2, 3, 4}, []float64{1, 2, nan, 4, 5}, []int{2, 2}},
		{"NaN in X splits the line too", []float64{0, nan, 2, 3}, []float64{1, 2, 3, 4}, []int{1, 2}},
		{"leading and trailing NaNs are dropped", []float64{0, 1, 2, 3}, []float64{nan, 2, 3, nan}, []int{2}},
		{"long line is downsampled across its gaps", seq(9000), withNaN(seq(9000), 4500), []int{1500, 1500}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := segments(Line{X: tc.x, Y: tc.y})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, s := range segs {
				got = append(got, len(s))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("segment sizes %v; want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("segment sizes %v; want %v", got, tc.want)
				}
			}
		})
	}
}

func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i % 7)
	}
	return s
}

func withNaN(s []float64, at int) []float64 {
	s = append([]float64(nil), s...)
	s[at] = math.NaN()
	return s
}

func TestDownsample(t *testing.T) {
	spiky := make(plotter.XYs, 10000)
	for i := range spiky {
		spiky[i] = plotter.XY{X: float64(i), Y: 1}
	}
	spiky[7777].Y = 500 // one-sample flash crowd

	tests := []struct {
		name     string
		in       plotter.XYs
		bucket   int
		wantLen  int
		wantPeak plotter.XY
	}{
		{"bucket of one keeps everything", plotter.XYs{{X: 0, Y: 3}, {X: 1, Y: 1}}, 1, 2, plotter.XY{X: 0, Y: 3}},
		{"keeps the largest of each bucket", plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 5}, {X: 2, Y: 4}, {X: 3, Y: 2}, {X: 4, Y: 9}}, 2, 3, plotter.XY{X: 4, Y: 9}},
		{"a lone spike survives", spiky, 3, 3334, plotter.XY{X: 7777, Y: 500}},
		{"short run becomes its peak", plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 2}}, 5, 1, plotter.XY{X: 1, Y: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := downsample(tc.in, tc.bucket)
			if len(got) != tc.wantLen {
				t.Fatalf("%d points; want %d", len(got), tc.wantLen)
			}
			if got[argmaxY(got)] != tc.wantPeak {
				t.Errorf("peak %v; want %v", got[argmaxY(got)], tc.wantPeak)
			}
			for i := 1; i < len(got); i++ {
				if got[i].X <= got[i-1].X {
					t.Fatalf("order lost at %d: %v after %v", i, got[i], got[i-1])
				}
			}
		})
	}

	t.Run("lines longer than MaxLinePoints are cut to at most that", func(t *testing.T) {
		x, y := wave(125300, 1) // the size of the World Cup trace
		segs, err := segments(Line{X: x, Y: y})
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 1 || len(segs[0]) > MaxLinePoints {
			t.Fatalf("got %d segments, first with %d points; want 1 with at most %d", len(segs), len(segs[0]), MaxLinePoints)
		}
	})
}

func TestCompactLabel(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{1e-17, "0"},
		{0.25, "0.25"},
		{2500, "2500"},
		{9999, "9999"},
		{17500, "17.5k"},
		{229400, "229.4k"},
		{1_000_000, "1M"},
		{4_259_454, "4.259M"},
		{1_352_804_107, "1.353G"},
		{-20000, "-20k"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := compactLabel(tc.v); got != tc.want {
				t.Errorf("compactLabel(%v) = %q; want %q", tc.v, got, tc.want)
			}
		})
	}
}
