"""feedgen extensions for the namespaces podcast apps read: itunes:, podcast: (Podcasting 2.0) and psc:."""
