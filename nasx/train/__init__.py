"""Training: recipe (torch-free), job types (torch-free), trainer (imports torch lazily)."""
