"""What both command lines show a person, shared by curate and segment: the help pages
(`cli_help`), progress bars and Ctrl-C handling (`progress`, `interrupt`), the `--set` /
`--config` parser (`settings`), and the pictures: the class palette, masks drawn in colour,
contact sheets and charts (`palette`, `plots`), and the HTML page shell (`html_page`).

segment may import it, as it imports curate.io; nothing here reads or writes a dataset.
"""
