"""Inventory: analyzers turn the files of each layer into facts; the applier merges them into packages."""
