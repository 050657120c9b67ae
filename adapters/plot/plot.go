package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"os"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Size defaults and bounds, in pixels.
const (
	DefaultWidth       = 1400
	DefaultPanelHeight = 320
	MinWidth           = 200
	MinPanelHeight     = 120
	// MaxPixels bounds the image (width × total height) so a bad argument
	// cannot ask for gigabytes of memory.
	MaxPixels = 40_000_000
)

// MaxLinePoints is the most points a line is drawn with; longer lines are
// downsampled, keeping the largest value of each bucket so peaks show.
const MaxLinePoints = 4000

// ErrBadInput is wrapped by every error about the arguments of WritePNG.
var ErrBadInput = errors.New("bad chart input")

// Line is one series in a panel.
type Line struct {
	// Name is shown in the panel's legend; an empty name has no entry.
	Name string
	// X and Y have the same length. A NaN in either leaves a gap in the line;
	// infinities are refused.
	X, Y []float64
	// Dashed draws the line dashed, e.g. for forecasts or limits.
	Dashed bool
}

// Panel is one chart: a title, axis labels and at least one line.
type Panel struct {
	Title, XLabel, YLabel string
	Lines                 []Line
	// LegendRight puts the legend in the top right corner instead of the top left,
	// for lines that start high and fall.
	LegendRight bool
}

// WritePNG draws the panels stacked vertically into one PNG at path, each
// with its own legend. width is the image width in pixels and panelHeight the
// height of each panel (0 means DefaultWidth and DefaultPanelHeight). The file
// is written only once the image has been drawn.
func WritePNG(path string, panels []Panel, width, panelHeight int) error {
	if width == 0 {
		width = DefaultWidth
	}
	if panelHeight == 0 {
		panelHeight = DefaultPanelHeight
	}
	if err := checkSize(len(panels), width, panelHeight); err != nil {
		return err
	}
	plots := make([][]*gplot.Plot, len(panels))
	for i, p := range panels {
		pl, err := newPlot(p)
		if err != nil {
			return fmt.Errorf("%w: panel %d (%q): %w", ErrBadInput, i, p.Title, err)
		}
		plots[i] = []*gplot.Plot{pl}
	}

	img, err := render(plots, width, panelHeight*len(panels))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("encoding chart png: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing chart: %w", err)
	}
	return nil
}

func checkSize(panels, width, panelHeight int) error {
	switch {
	case panels == 0:
		return fmt.Errorf("%w: no panels", ErrBadInput)
	case width < MinWidth:
		return fmt.Errorf("%w: width %d px is below %d", ErrBadInput, width, MinWidth)
	case panelHeight < MinPanelHeight:
		return fmt.Errorf("%w: panel height %d px is below %d", ErrBadInput, panelHeight, MinPanelHeight)
	case float64(width)*float64(panelHeight)*float64(panels) > MaxPixels:
		return fmt.Errorf("%w: %d×%d px panels × %d is more than %d pixels",
			ErrBadInput, width, panelHeight, panels, MaxPixels)
	}
	return nil
}

// render draws the plots, one per tile, onto an image of exactly w×h pixels.
func render(plots [][]*gplot.Plot, w, h int) (c *vgimg.Canvas, err error) {
	// gonum/plot panics on some degenerate inputs (axis ranges that overflow);
	// a report generator should get an error instead.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("drawing chart: %v", r)
		}
	}()
	c = vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, w, h))))
	tiles := draw.Tiles{
		Rows: len(plots), Cols: 1,
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10),
		PadY: vg.Points(10),
	}
	canvases := gplot.Align(plots, tiles, draw.New(c))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	return c, nil
}

// newPlot builds one panel's plot, checking its lines.
func newPlot(p Panel) (*gplot.Plot, error) {
	if len(p.Lines) == 0 {
		return nil, errors.New("no lines")
	}
	pl := gplot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = p.XLabel
	pl.Y.Label.Text = p.YLabel
	pl.X.Tick.Marker = compactTicks{}
	pl.Y.Tick.Marker = compactTicks{}
	pl.Legend.Top = true
	pl.Legend.Left = !p.LegendRight
	pl.Add(plotter.NewGrid())
	for i, l := range p.Lines {
		segs, err := segments(l)
		if err != nil {
			return nil, fmt.Errorf("line %d (%q): %w", i, l.Name, err)
		}
		style := draw.LineStyle{Color: plotutil.Color(i), Width: vg.Points(1.2)}
		if l.Dashed {
			style.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		for _, xy := range segs {
			if err := addSegment(pl, xy, style); err != nil {
				return nil, fmt.Errorf("line %d (%q): %w", i, l.Name, err)
			}
		}
		if l.Name != "" {
			// The thumbnail only needs the style, whatever the segments are.
			pl.Legend.Add(l.Name, &plotter.Line{LineStyle: style})
		}
	}
	return pl, nil
}

// addSegment draws one run of points; a lone point between gaps would be
// invisible as a line, so it becomes a dot.
func addSegment(pl *gplot.Plot, xy plotter.XYs, style draw.LineStyle) error {
	if len(xy) == 1 {
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: style.Color, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
		pl.Add(sc)
		return nil
	}
	ln, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	ln.LineStyle = style
	pl.Add(ln)
	return nil
}

// segments splits a line at NaN points into the runs that are drawn, each
// downsampled with the same bucket width so the line looks uniform.
func segments(l Line) ([]plotter.XYs, error) {
	if len(l.X) != len(l.Y) {
		return nil, fmt.Errorf("X has %d points, Y has %d", len(l.X), len(l.Y))
	}
	bucket := (len(l.X) + MaxLinePoints - 1) / MaxLinePoints
	var segs []plotter.XYs
	var cur plotter.XYs
	flush := func() {
		if len(cur) > 0 {
			segs = append(segs, downsample(cur, bucket))
			cur = nil
		}
	}
	for i := range l.X {
		x, y := l.X[i], l.Y[i]
		if math.IsInf(x, 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("point %d is infinite (%v, %v)", i, x, y)
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			flush()
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	flush()
	if len(segs) == 0 {
		return nil, errors.New("no finite points")
	}
	return segs, nil
}

// downsample keeps, from each run of bucket consecutive points, the one with
// the largest Y: a load chart must not hide its peaks.
func downsample(xy plotter.XYs, bucket int) plotter.XYs {
	if bucket <= 1 {
		return xy
	}
	out := make(plotter.XYs, 0, (len(xy)+bucket-1)/bucket)
	for lo := 0; lo < len(xy); lo += bucket {
		b := xy[lo:min(lo+bucket, len(xy))]
		out = append(out, b[argmaxY(b)])
	}
	return out
}

func argmaxY(xy plotter.XYs) int {
	best := 0
	for i := range xy {
		if xy[i].Y > xy[best].Y {
			best = i
		}
	}
	return best
}
