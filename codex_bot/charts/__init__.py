"""Charts: Chart.js 4 configs from panel results, rendered through QuickChart or the bundled renderer."""
