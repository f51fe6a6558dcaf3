"""Filter types shared by the list endpoints."""

import django_filters


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """One or more values of the row's own column (repeat the parameter).

    django-filter makes such a filter ``SELECT DISTINCT`` by default, for filters across to-many
    joins; on a column of the row itself no row can repeat, and at a million rows the DISTINCT
    sorts every match before the page is cut (40 ms instead of 2 ms for a filtered alerts page).
    """

    def __init__(self, *args: object, distinct: bool = False, **kwargs: object) -> None:
        super().__init__(*args, distinct=distinct, **kwargs)
