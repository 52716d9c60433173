"""What a person looks at: the HTML report of a curated folder and the PNG charts and sheets."""
