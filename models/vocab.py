"""Controlled vocabularies: IOM HTCDS 2.0 picklists and the values tipdesk adds.

Each vocabulary is a tuple of ``(value name, English label)``. The register and every export
store value names (e.g. ``ActualVictimOfTrafficking``); windows show labels. The HTCDS lists
were taken from IOM's Human Trafficking Case Data Standard 2.0 field standards
(``htcds-2.0-field-standards.csv``, CC BY 4.0); labels are HTCDS's "Value Labels" column.
"""

from __future__ import annotations

# --- HTCDS 2.0 picklists (value name, label) -------------------------------------------------

org_Type = (
    ('NGO', 'NGO'),
    ('LawEnforcement', 'Law Enforcement'),
    ('HealthServiceOrganisation', 'Health Service Organisation'),
    ('CentralGovernmentOrganisation', 'Central Government Organisation'),
    ('LocalGovernmentOrganisation', 'Local Government Organisation'),
    ('ImmigrationService', 'Immigration Service'),
    ('LegalService', 'Legal Service'),
    ('CorporateBusiness', 'Corporate Business'),
    ('SchoolOrCollege', 'School or College'),
)

prs_Gender = (
    ('Feminine', 'Feminine'),
    ('Masculine', 'Masculine'),
    ('TransgenderFeminine', 'Transgender Feminine'),
    ('TransgenderMasculine', 'Transgender Masculine'),
    ('NonConforming', 'Non-Conforming'),
    ('NonSpecifiedUnknown', 'Not Specified/Unknown'),
)

vic_TraffickingStatus = (
    ('PossibleVictimOfTrafficking', 'Possible victim of trafficking'),
    ('ActualVictimOfTrafficking', 'Actual victim of trafficking'),
    ('NotAVictimOfTrafficking', 'Not a victim of trafficking'),
)

vic_TraffickingStatusDecisionMakingOrg = (
    ('Police', 'Police'),
    ('NGO', 'NGO'),
    ('CourtOrProsecution', 'Court or prosecution'),
    ('NonPoliceGovernmentalOrganization', 'Non-police governmental organization'),
    ('Other', 'Other'),
)

vic_RelationshipToTrafficker = (
    ('Familial', 'Familial'),
    ('Acquainted', 'Acquainted'),
    ('Unaquainted', 'Unaquainted'),
)

vic_MethodOfRecruitment = (
    ('AtAPlaceOfBusiness', 'At a place of business'),
    ('AtAnEducationalInstitution', 'At an educational institution'),
    ('AtWork', 'At work'),
    ('ThroughOnlineSocialNetworks', 'Through online social networks'),
    ('ThroughAnOnlineAdvertisement', 'Through an online advertisement'),
    ('ThroughATelevisionAdvert', 'Through a television advert'),
    ('ThroughANewspaperAdvert', 'Through a newspaper advert'),
    ('ThroughFamilyOrFamilyEvents', 'Through family or family events'),
    ('ThroughFriendsOrSocialEvents', 'Through friends or social events'),
    ('Other', 'Other'),
)

vic_MethodsOfControl = (
    ('PhysicalThreats', 'Physical threats'),
    ('ThreatsLawEnforcement', 'Threats of law enforcement'),
    ('ThreatensChildrenFamily', 'Threatens children/family'),
    ('DebtBondage', 'Debt bondage'),
    ('FalsePromises', 'False promises'),
    ('PhysicalAbuse', 'Physical abuse'),
    ('SexualAbuse', 'Sexual abuse'),
    ('TakesEarnings', 'Takes earnings'),
    ('RestrictsFinancialAccess', 'Restricts financial access'),
    ('RestrictsMedicalCare', 'Restricts medical care'),
    ('WithholdsNecessities', 'Withholds necessities'),
    ('PsychologicalAbuse', 'Psychological abuse'),
    ('PsychoactiveSubstance', 'Psychoactive substance'),
    ('ExcessiveWorkingHours', 'Excessive working hours'),
    ('WithholdsDocuments', 'Withholds documents'),
    ('Other', 'Other'),
)

vic_TypeOfExploitation = (
    ('ForcedLabour', 'Forced labour'),
    ('SexualExploitation', 'Sexual exploitation'),
    ('ChildLabour', 'Child labour'),
    ('ForcedMarriage', 'Forced marriage'),
    ('Servitude', 'Servitude'),
    ('ForcedMilitaryByNonStateActors', 'Forced military (by non-state actors)'),
    ('OrganRemoval', 'Organ removal'),
    ('ForcedBegging', 'Forced begging'),
    ('ForcedAdoption', 'Forced adoption'),
    ('Surrogacy', 'Surrogacy'),
    ('Other', 'Other'),
)

vic_ForcedLabourIndustry = (
    ('A_AgricultureForestryAndFishing', 'Agriculture, forestry and fishing'),
    ('B_MiningAndQuarrying', 'Mining and quarrying'),
    ('C_Manufacturing', 'Manufacturing'),
    ('D_ElectricityGasSteamAndAirConditioningSupply', 'Electricity, gas, steam and air conditioning supply'),
    ('E_WaterSupplySewerageWasteManagement', 'Water supply; sewerage, waste management and remediation'),
    ('F_Construction', 'Construction'),
    ('G_WholesaleAndRetailTradeRepairOfMotorVehicles', 'Wholesale and retail trade; repair of motor vehicles and motorcycles'),
    ('H_TransportationAndStorage', 'Transportation and storage'),
    ('I_AccommodationAndFoodServiceActivities', 'Accommodation and food service activities'),
    ('J_InformationAndCommunication', 'Information and communication'),
    ('K_FinancialAndInsuranceActivities', 'Financial and insurance activities'),
    ('L_RealEstateActivities', 'Real estate activities'),
    ('M_ProfessionalScientificAndTechnicalActivities', 'Professional, scientific and technical activities'),
    ('N_AdministrativeAndSupportServiceActivities', 'Administrative and support service activities'),
    ('O_PublicAdministrationAndDefence', 'Public administration and defence; compulsory social security'),
    ('P_Education', 'Education'),
    ('Q_HumanHealthAndSocialWorkActivities', 'Human health and social work activities'),
    ('R_ArtsEntertainmentAndRecreation', 'Arts, entertainment and recreation'),
    ('S_OtherServiceActivities', 'Other service activities'),
    ('T_ActivitiesOfHouseholdsAsEmployers', 'Activities of households as employers; undifferentiated goods- and services- producing activities of households for own use'),
    ('U_ActivitiesOfExtraterritorialOrganizations', 'Activities of extraterritorial organizations and bodies'),
)

vic_TypeOfSexExploitation = (
    ('Prostitution', 'Prostitution'),
    ('Pornography', 'Pornography'),
    ('RemoteInteractiveServices', 'Remote Interactive Services'),
    ('PrivateSexualServices', 'Private Sexual Services'),
)

cas_Status = (
    ('Active', 'Active'),
    ('FollowUp', 'Follow Up'),
    ('Closed', 'Closed'),
    ('ClosedReferred', 'Closed Referred'),
)

cas_ReasonForIncomingReferral = (
    ('AdditionalServicesRequired', 'Additional Services Required'),
    ('MigrationOrChangeOfLocation', 'Migration or Change of Location'),
    ('Other', 'Other'),
)

hte_Type = (
    ('Recruitment', 'Recruitment'),
    ('Transit', 'Transit'),
    ('Exploitation', 'Exploitation'),
)

spl_Type = (
    ('Education', 'Education'),
    ('Financial', 'Financial'),
    ('Health', 'Health'),
    ('LabourExploitationRehabilitation', 'Labour Exploitation Rehabilitation'),
    ('Legal', 'Legal'),
    ('Livelihood', 'Livelihood'),
    ('RightsBasedTraining', 'Rights-based Training'),
    ('SexualExploitationRehabilitation', 'Sexual Exploitation Rehabilitation'),
    ('SocialCare', 'Social Care'),
)

# --- Values tipdesk adds where HTCDS has none ---------------------------------------------------

#: Service types: HTCDS ``spl_Type`` plus tipdesk's own (named in TIP-RETURN/1, T6).
SERVICE_TYPES = spl_Type + (
    ("Psychosocial", "Psychosocial support"),
    ("Accommodation", "Accommodation"),
    ("Interpretation", "Interpretation"),
    ("Repatriation", "Repatriation"),
    ("FamilyTracing", "Family tracing"),
    ("Other", "Other"),
)

ROUTE_EVENT_TYPES = hte_Type

CASE_STATUSES = cas_Status
TRAFFICKING_STATUSES = vic_TraffickingStatus
DECISION_BODIES = vic_TraffickingStatusDecisionMakingOrg
GENDERS = prs_Gender
ORG_TYPES = org_Type
EXPLOITATION_TYPES = vic_TypeOfExploitation
LABOUR_INDUSTRIES = vic_ForcedLabourIndustry
SEX_EXPLOITATION_TYPES = vic_TypeOfSexExploitation
METHODS_OF_CONTROL = vic_MethodsOfControl
RECRUITMENT_METHODS = vic_MethodOfRecruitment
RELATIONSHIPS = vic_RelationshipToTrafficker
REFERRAL_REASONS = cas_ReasonForIncomingReferral

SCOPES = (
    ("Domestic", "Domestic"),
    ("Transnational", "Transnational"),
    ("Unknown", "Unknown"),
)

REFERRAL_DIRECTIONS = (("In", "Incoming"), ("Out", "Outgoing"))
REFERRAL_OUTCOMES = (("Pending", "Pending"), ("Accepted", "Accepted"), ("Declined", "Declined"))

#: Justice stages, named as the rows of TIP-RETURN/1's T8_Justice.
JUSTICE_STAGES = (
    ("Reported to police", "Reported to police"),
    ("Investigation opened", "Investigation opened"),
    ("Prosecution started", "Prosecution started"),
    ("Conviction", "Conviction"),
    ("Acquittal or dismissal", "Acquittal or dismissal"),
)

#: Identifying organisation when no partner organisation identified the person.
SELF_REFERRAL = "Self-referral"
UNKNOWN = "Unknown"

#: Sex categories of returns (TIP-RETURN/1 "Sex", from HTCDS prs_Gender).
SEX_OF_GENDER = {
    "Feminine": "Female",
    "Masculine": "Male",
    "TransgenderFeminine": "Other",
    "TransgenderMasculine": "Other",
    "NonConforming": "Other",
    "NonSpecifiedUnknown": "Unknown",
}
SEXES = ("Female", "Male", "Other", "Unknown")
AGE_GROUPS = ("0-17", "18+", "unknown")

#: UNODC form-of-exploitation categories (TIP-RETURN/1 "Form of exploitation").
EXPLOITATION_CATEGORY = {
    "ForcedLabour": "Forced labour",
    "ChildLabour": "Forced labour",
    "Servitude": "Forced labour",
    "SexualExploitation": "Sexual exploitation",
}
OTHER_EXPLOITATION = "Other forms of exploitation"
EXPLOITATION_CATEGORIES = ("Sexual exploitation", "Forced labour", OTHER_EXPLOITATION)


def exploitation_category(value: str) -> str:
    """UNODC category of an HTCDS ``vic_TypeOfExploitation`` value."""
    return EXPLOITATION_CATEGORY.get(value, OTHER_EXPLOITATION)


FACILITY_KINDS = (
    ("Shelter", "Shelter"),
    ("SafeHouse", "Safe house"),
    ("ChildrensHome", "Children's home"),
    ("ChildFriendlySpace", "Child-friendly space"),
)

DISCHARGE_REASONS = (
    ("ReintegratedWithFamily", "Reintegrated with family"),
    ("IndependentLiving", "Independent living"),
    ("TransferredToOtherFacility", "Transferred to other facility"),
    ("Repatriated", "Repatriated"),
    ("LeftVoluntarily", "Left voluntarily"),
    ("Absconded", "Absconded"),
    ("Other", "Other"),
)

SERVICE_STATUSES = (
    ("Planned", "Planned"),
    ("Ongoing", "Ongoing"),
    ("Completed", "Completed"),
    ("Cancelled", "Cancelled"),
)

FOLLOWUP_MODES = (
    ("HomeVisit", "Home visit"),
    ("OfficeVisit", "Office visit"),
    ("Phone", "Phone"),
    ("Other", "Other"),
)
FOLLOWUP_STATUSES = (
    ("Scheduled", "Scheduled"),
    ("Done", "Done"),
    ("Cancelled", "Cancelled"),
)
FOLLOWUP_PLAN_STATUSES = (
    ("Active", "Active"),
    ("Completed", "Completed"),
    ("Cancelled", "Cancelled"),
)
RISK_LEVELS = (("Low", "Low"), ("Medium", "Medium"), ("High", "High"))

#: Reintegration scores 1–5 (IOM's reintegration approach), with what each level means.
SCORE_LEVELS = (
    (1, "1 – very poor: urgent needs, no stability"),
    (2, "2 – poor: serious needs, little support"),
    (3, "3 – fair: some needs met, fragile"),
    (4, "4 – good: most needs met, coping"),
    (5, "5 – very good: stable and self-reliant"),
)

#: Palermo Protocol elements for screening.
PALERMO_ACTS = (
    ("Recruitment", "Recruitment"),
    ("Transport", "Transport"),
    ("Transfer", "Transfer"),
    ("Harbouring", "Harbouring"),
    ("Receipt", "Receipt"),
)
PALERMO_MEANS = (
    ("Threat", "Threat or use of force"),
    ("Force", "Force"),
    ("Coercion", "Other forms of coercion"),
    ("Abduction", "Abduction"),
    ("Fraud", "Fraud"),
    ("Deception", "Deception"),
    ("AbuseOfPower", "Abuse of power or of a position of vulnerability"),
    ("Payments", "Giving or receiving payments or benefits"),
)


def names(vocabulary: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The value names of a vocabulary, in its order."""
    return tuple(name for name, _ in vocabulary)


def label(vocabulary: tuple[tuple[str, str], ...], value: str | None) -> str:
    """The label of ``value``; the value itself when it is not in the vocabulary."""
    if value is None:
        return ""
    for name, text in vocabulary:
        if name == value:
            return text
    return value
