"""Support code for the chapters: corpora, training loops and plots too long for a cell."""
