"""Funding-rate simulator (Fördersatz-Simulator): what the state would have paid under other
funding rules, how far that over- or under-finances the proven costs, and what the budget
(appropriation plus residues) would have left unspent. Pure functions on polars frames;
`funding_sim.warehouse` reads and writes the build database."""
