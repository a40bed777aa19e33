package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/markwatch/markwatch/internal/store"
)

// The mark page's figures over time, for its brand owner and admins:
// automatic complaints, takedowns and the upheld share of decided
// complaints, by the day (or week) the complaints arrived, and the running
// total of repeat sellers. Each is a small SVG bar chart rendered here, no
// script: a label sums it up for screen readers and each bar has a title.

// barChart is one chart of the mark page.
type barChart struct {
	// Title names the figure; Total is what it adds up to, in words.
	Title, Total string
	// Label describes the chart for screen readers.
	Label         string
	Width, Height int
	Bars          []chartBar
}

type chartBar struct {
	X, Y, W, H int
	Title      string
}

// chart geometry: one bar per day of chartDays.
const (
	figureBarW   = 10
	figureHeight = 60
)

// newBarChart scales values (one per bar) to the chart's height; full is
// the value drawn full height, raised to the largest value.
func newBarChart(title, total string, values []int, titles []string, full int, barW int) barChart {
	for _, v := range values {
		full = max(full, v)
	}
	full = max(full, 1)
	c := barChart{Title: title, Total: total, Width: len(values) * barW, Height: figureHeight}
	busiest := 0
	for i, v := range values {
		h := v * (figureHeight - 2) / full
		if v > 0 {
			h = max(h, 1) // a small count stays visible
		}
		c.Bars = append(c.Bars, chartBar{X: i * barW, Y: figureHeight - h, W: barW - 2, H: h, Title: titles[i]})
		busiest = max(busiest, v)
	}
	c.Label = fmt.Sprintf("%s: %s; %d bars, the highest %d", title, total, len(values), busiest)
	return c
}

// markFigures builds the mark page's charts from the days of the mark's
// holder's figures that are this mark's, and the times its sellers became
// repeat sellers, over the n days up to now.
func markFigures(markID string, days []store.MarkDay, repeat []time.Time, now time.Time, n int) []barChart {
	start := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(n - 1))
	byDay := map[string]store.MarkDay{}
	for _, d := range days {
		if d.MarkID == markID {
			byDay[d.Day.UTC().Format("2006-01-02")] = d
		}
	}
	auto, takedowns, running := make([]int, n), make([]int, n), make([]int, n)
	autoT, downT, runT := make([]string, n), make([]string, n), make([]string, n)
	var sumAuto, sumDown int
	for i := range n {
		day := start.AddDate(0, 0, i)
		d := byDay[day.Format("2006-01-02")]
		auto[i], takedowns[i] = d.Auto, d.Upheld
		sumAuto += d.Auto
		sumDown += d.Upheld
		label := day.Format("Jan 2")
		autoT[i] = label + ": " + strconv.Itoa(d.Auto) + " automatic complaint(s)"
		downT[i] = label + ": " + strconv.Itoa(d.Upheld) + " taken down"
		end := day.AddDate(0, 0, 1)
		for _, t := range repeat {
			if t.Before(end) {
				running[i]++
			}
		}
		runT[i] = label + ": " + strconv.Itoa(running[i]) + " repeat seller(s)"
	}
	// The upheld share by week of arrival, the last week ending today.
	weeks := (n + 6) / 7
	share, shareT := make([]int, weeks), make([]string, weeks)
	var decided, upheld int
	for w := range weeks {
		var wd, wu int
		from := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -7*(weeks-w)+1)
		for k := range 7 {
			d := byDay[from.AddDate(0, 0, k).Format("2006-01-02")]
			wd += d.Decided
			wu += d.Upheld
		}
		decided += wd
		upheld += wu
		shareT[w] = "week of " + from.Format("Jan 2") + ": no complaint decided"
		if wd > 0 {
			share[w] = 100 * wu / wd
			shareT[w] = fmt.Sprintf("week of %s: %d%% upheld (%d of %d decided)", from.Format("Jan 2"), share[w], wu, wd)
		}
	}
	shareTotal := "no complaint decided"
	if decided > 0 {
		shareTotal = fmt.Sprintf("%d%% (%d of %d decided)", 100*upheld/decided, upheld, decided)
	}
	last := 0
	if n > 0 {
		last = running[n-1]
	}
	span := " over the last " + strconv.Itoa(n) + " days"
	return []barChart{
		newBarChart("Automatic complaints per day", strconv.Itoa(sumAuto)+span, auto, autoT, 0, figureBarW),
		newBarChart("Upheld share per week", shareTotal+span, share, shareT, 100, n*figureBarW/weeks),
		newBarChart("Takedowns per day", strconv.Itoa(sumDown)+span, takedowns, downT, 0, figureBarW),
		newBarChart("Repeat sellers, running total", strconv.Itoa(last)+" seller(s) with more than one upheld complaint", running, runT, 0, figureBarW),
	}
}
