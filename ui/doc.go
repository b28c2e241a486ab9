// Package ui is the Bubble Tea workbench: screens, charts, heatmaps, key maps
// and styles. It reads a session's live store and never blocks the engine.
package ui
