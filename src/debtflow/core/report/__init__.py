"""Pure computation behind the manager dashboard: rates with Wilson intervals, breakdowns
per collector / segment / creditor, response times, bucket roll rates and SVG charts."""
