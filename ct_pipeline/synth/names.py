"""Small, fake name pools by naming culture, with the transliterations a name gets in practice.

Each entry is "Primary|Variant|Variant": the first spelling is the one a person's first case uses;
the others (plus an ASCII-folded spelling when the name has diacritics) are what another mission may
write. A trailing "*" on a family name marks a gendered surname (Slavic / Central Asian): women take
the "-a" form. All names are common given names and surnames combined at random: no real person.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ct_pipeline.synth.name_tails import head_share, tail_spec
from ct_pipeline.synth.reference import ascii_fold, cp1252_fold

_G: dict[str, dict[str, str]] = {
    "romanian": {
        "F": "Ana|Ana|Anna; Maria; Elena; Ioana|Ionela; Cristina|Kristina; Tatiana|Tatiana|Tatyana; Natalia|Natalya; "
             "Olga; Mihaela; Alina; Victoria|Viktoria; Doina; Lilia|Liliya; Irina; Aurelia; Angela; Valentina; "
             "Nadejda|Nadezhda; Ludmila|Lyudmila; Corina",
        "M": "Ion|Ioan; Vasile|Vasilii; Andrei|Andrey; Sergiu|Serghei|Sergey; Mihai|Mihail; Nicolae|Nikolai; "
             "Alexandru|Aleksandr; Dumitru|Dmitri; Gheorghe|Gheorghii; Ștefan|Ştefan|Stefan; Vladimir; Victor|Viktor; "
             "Igor; Constantin|Konstantin; Petru|Pyotr",
        "L": "Rusu; Ceban|Cheban; Popescu; Ciobanu|Chiobanu; Țurcanu|Ţurcanu|Turcanu; Munteanu; Lungu; Rotari|Rotaru; "
             "Cojocaru|Kojokaru; Sîrbu|Sârbu|Sirbu; Bălan|Balan; Moraru; Popa; Ionescu; Dumitrescu; Stan; "
             "Gheorghiu; Căpraru|Capraru; Guțu|Guţu|Gutu; Ursu",
    },
    "slavic": {
        "F": "Olena|Elena|Yelena|Alena; Nataliia|Natalia|Nataliya|Natalya; Tetiana|Tatiana|Tatyana; Iryna|Irina; "
             "Oksana|Oxana; Yuliia|Yulia|Yuliya|Julia; Svitlana|Svetlana; Anastasiia|Anastasia|Anastasiya; "
             "Kateryna|Ekaterina|Yekaterina; Mariia|Maria|Mariya; Liudmyla|Lyudmila|Ludmila; Halyna|Galina; "
             "Olha|Olga; Viktoriia|Viktoria|Victoria; Daria|Darya|Dariya",
        "M": "Oleksandr|Aleksandr|Alexandr|Alexander; Serhii|Sergei|Sergey|Serhiy; Andrii|Andrei|Andriy|Andrey; "
             "Dmytro|Dmitri|Dmitry|Dmitriy; Mykola|Nikolai|Nikolay; Volodymyr|Vladimir; Yurii|Yuri|Iurii|Yuriy; "
             "Oleh|Oleg; Ihor|Igor; Vitalii|Vitaly|Vitaliy; Maksym|Maxim|Maksim; Pavlo|Pavel",
        "L": "Kovalenko; Shevchenko|Chevtchenko; Bondarenko; Tkachenko|Tkatchenko; Kravchenko|Kravtchenko; "
             "Melnyk|Melnik; Boiko|Boyko; Ivanov*; Petrov*; Sidorov*; Smirnov*; Kuznetsov*|Kuznecov*; Popov*; "
             "Volkov*; Morozov*; Kovalchuk|Kovaltchouk; Lysenko|Lisenko; Savchenko|Savtchenko; Novikov*; Sokolov*",
    },
    "central_asian": {
        "F": "Gulnara|Gulnora; Dilnoza|Dilnaza; Aigerim|Aygerim; Nodira; Zarina; Malika; Madina; Feruza|Firuza; "
             "Shakhnoza|Shahnoza|Shaxnoza; Aizhan|Ayzhan|Aijan; Nigora|Nigara; Asel|Assel",
        "M": "Rustam; Bakhtiyor|Bakhtiyar|Baxtiyor; Timur; Azamat; Farrukh|Farukh; Nurlan; Ulugbek|Ulughbek; "
             "Sherzod|Sherzad; Dilshod|Dilshad; Bekzod|Bekzat; Jamshid|Dzhamshid|Djamshid; Aibek|Aybek",
        "L": "Karimov*; Rakhimov*|Rahimov*|Raximov*; Yusupov*|Yusufov*; Nazarov*; Abdullaev*|Abdullayev*; Mamatov*; "
             "Sadykov*|Sodiqov*; Ismoilov*|Ismailov*; Nurmatov*; Toktogulov*; Bekov*; Zhumabaev*|Jumabaev*|Dzhumabaev*",
    },
    "albanian": {
        "F": "Elona; Arjola; Blerina; Ermira; Anila; Mirela; Jonida; Klodiana; Valbona; Etleva; Brunilda; Dorina",
        "M": "Arben; Besnik; Gentian|Gentjan; Ilir; Kastriot|Kastrioti; Erion; Artan; Fatmir; Dritan; Agron; Ervin; Gëzim|Gezim",
        "L": "Hoxha|Hodja|Hoxhaj; Shehu; Leka; Dervishi; Çela|Cela; Gjoka; Kola; Marku; Prifti; Basha; Mema; Gjika",
    },
    "caucasian": {
        "F": "Nino; Tamar|Tamari; Eka|Ekaterine; Nana; Maia|Maya; Natia; Salome; Lela",
        "M": "Giorgi|Georgi|George; Levan; Davit|David; Irakli|Irakliy; Zurab|Zourab; Nika; Lasha; Mamuka",
        "L": "Beridze; Kapanadze; Gelashvili; Maisuradze; Tsiklauri|Tsiklaouri; Lomidze; Kvaratskhelia; Abashidze",
    },
    "thai": {
        "F": "Siriporn|Siriphon; Nattaya|Natthaya; Pranee|Pranie; Malee|Mali; Kanya; Wanida|Vanida; Supaporn|Suphaphon; "
             "Porntip|Pornthip; Ratana|Rattana; Jintana|Chintana; Duangjai|Duangchai; Nongluck|Nongluk",
        "M": "Somchai|Somchay; Somsak; Prasert|Prasoet; Anan; Chaiya; Sombat; Wichai|Vichai; Thongchai|Tongchai; "
             "Surachai; Boonmee|Bunmi; Kittisak; Narong",
        "L": "Saetang|Sae-tang|Sae Tang; Srisuk|Srisook; Wongsawat; Chaiyaphum|Chaiyaphoom; Phromma|Promma; "
             "Kaewkla|Kaewkhla; Boonyarat|Bunyarat; Sukkasem|Suksem; Thongdee|Thongdi; Chanthawong|Chantawong",
    },
    "khmer": {
        "F": "Sokha|Sokhar; Sreymom|Srey Mom; Chanthy|Chanthi; Sophea|Sopheap; Dara; Channary|Chanary; "
             "Sreyneang|Srey Neang; Bopha; Kolab; Leakhena|Leakena; Sreyleak|Srey Leak; Thida",
        "M": "Sokhom|Sokhum; Vuthy|Vuthi; Sophal; Rithy|Rithi; Chantha; Vanna|Vana; Samnang|Samnaang; Visal; "
             "Piseth|Piset; Sovann|Sovan; Bunthoeun|Bunthoen; Rotha",
        "L": "Sok; Chea; Kim; Heng; Ly|Lee; Meas|Meah; Chhun|Chun; Prak; Keo|Kev; Pich|Pech; Seng; Chan",
    },
    "burmese": {  # no family names
        "F": "Aye Aye Mon; Khin Khin Win|Khine Khine Win; Thandar Aung|Thanda Aung; Su Su Hlaing|Su Su Hlaig; "
             "Nilar Win|Ni Lar Win; May Thu|Mei Thu; Hnin Wai; Ei Ei Phyo; Moe Moe Khaing; Zin Mar Oo|Zin Mar U",
        "M": "Aung Kyaw Oo|Aung Kyaw U; Kyaw Zin Htet|Kyaw Zin Htut; Min Min Tun; Zaw Win Naing; Thet Naing; "
             "Soe Moe Aung; Htet Lin Aung; Ko Ko Naing; Myo Min Thant; Win Naing Oo",
        "L": "",
    },
    "lao": {
        "F": "Souksavanh|Souksavan; Phonesavanh|Phonsavan; Vilayvanh|Vilaivan; Noy|Noi; Manivanh|Manivan; "
             "Chanthala|Chantala; Bouasone|Buason; Davone|Davon; Khamla; Latsamy|Latsami",
        "M": "Somphone|Somphon; Bounmy|Bunmi; Khamphanh|Khamphan; Vanhxay|Vanxay; Sengphet|Xengphet; "
             "Bounthavy|Bunthavi; Phouvong|Phuvong; Sisavath|Sisavat; Thongsavanh|Thongsavan; Kham",
        "L": "Phommachanh|Phommachan; Sayavong|Xayavong; Keomany|Kaeomani; Vongsa; Inthavong; "
             "Souvannavong|Suvannavong; Phimmasone|Phimmason; Sengsouvanh|Xengsouvan; Chanthavong; Douangmala|Duangmala",
    },
    "vietnamese": {
        "F": "Thị Hương; Thị Lan; Thị Mai; Thị Hoa; Ngọc Anh; Thị Thu Trang; Thị Hằng; Thị Nga; Thị Linh; Thị Phương; "
             "Thị Thảo; Thị Yến",
        "M": "Văn Hùng; Văn Nam; Đức Anh; Minh Tuấn; Văn Long; Quang Huy; Văn Dũng; Thành Công; Hữu Phước; Văn Tài; "
             "Văn Thắng; Đình Khoa",
        "L": "Nguyễn|Nguyen|Nguyên; Trần|Tran; Lê|Le; Phạm|Pham; Hoàng|Hoang; Huỳnh|Huynh; Vũ|Vu; Võ|Vo; "
             "Đặng|Dang; Bùi|Bui; Đỗ|Do; Ngô|Ngo",
    },
    "indonesian": {
        "F": "Siti; Sri; Nur|Noor; Dewi; Rina; Yuliana|Juliana; Ratna; Eka; Wulan; Indah; Fitri|Fitriani; Suwarni",
        "M": "Budi; Agus|Agoes; Joko|Djoko; Ahmad|Achmad; Muhammad|Mohammad|Muhamad; Eko; Dedi|Dedy; Hendra; "
             "Slamet; Yusuf|Jusuf; Bambang; Wahyu|Wahju",
        "L": "Santoso|Santosa; Wahyuni|Wahjuni; Lestari; Susanti; Hidayat|Hidajat; Kurniawan; Gunawan; "
             "Prasetyo|Prasetio; Setiawan; Rahayu|Rahaju; Suryani|Surjani; Saputra",
    },
    "filipino": {
        "F": "Maria Cristina|Ma. Cristina; Maricel; Jocelyn|Joselyn; Rowena; Analyn|Annalyn; Lorna; Mary Grace; "
             "Rosalie; Jennifer; Marites|Maritess; Liezel|Liesel; Rhea",
        "M": "José|Jose; Juan; Mark Anthony; Romeo; Rodel; Jerome; Ramón|Ramon; Reynaldo|Reynald; Eduardo; "
             "Rolando; Ariel; Jomar",
        "L": "Santos; Reyes; Dela Cruz|De la Cruz|Delacruz; Bautista; García|Garcia; Mendoza; Aquino; Villanueva; "
             "Ramos; Gonzales|Gonzalez; Castillo; Flores",
    },
    "nepali": {
        "F": "Sita; Gita|Geeta; Maya; Sunita; Kamala|Kamla; Radha; Laxmi|Lakshmi; Sarita; Anita; Puja|Pooja; "
             "Sabina; Manisha",
        "M": "Ram; Hari; Krishna|Krisna; Bishnu|Vishnu; Ramesh; Suresh; Binod|Vinod; Prakash; Raju; Dipak|Deepak; "
             "Santosh; Bikash|Bikas",
        "L": "Tamang; Shrestha|Shresta|Srestha; Gurung; Rai; Magar; Thapa; Sherpa; Bishwakarma|Biswakarma|BK; "
             "Adhikari; Lama; Khadka; Karki",
    },
    "bengali": {
        "F": "Fatema|Fatima; Nasrin|Nasreen; Ayesha|Aisha|Aysha; Shirin|Sherin; Rina; Salma; Sultana; Rokeya|Rokea; "
             "Jannat; Morjina|Marjina; Rehana; Taslima",
        "M": "Mohammad|Muhammad|Md.; Abdul; Rahim|Raheem; Karim; Rafiq|Rafique; Jamal; Hasan|Hassan; "
             "Shahid|Shaheed; Kamal; Alamgir; Sohel|Sohail; Rubel",
        "L": "Hossain|Hussain|Hosen; Rahman|Rahaman; Islam; Akter|Akhter|Aktar; Begum|Begom; Uddin|Uddeen; "
             "Khatun|Khatoon; Ahmed|Ahmad; Miah|Mia; Sarkar|Sarker; Mondal|Mandal; Sheikh|Shaikh",
    },
    "indian": {
        "F": "Priya; Sunita; Anjali; Pooja|Puja; Kavita|Kavitha; Rekha; Meena|Mina; Lakshmi|Laxmi; Savitri|Savithri; "
             "Shanti|Shanthi; Geeta|Gita; Radha",
        "M": "Raju; Suresh; Ramesh; Mahesh; Anil; Sunil; Vijay|Vijai; Manoj; Santosh|Santhosh; Ravi; Rakesh; Arjun",
        "L": "Kumar; Singh; Devi; Yadav|Yadhav; Das; Sharma|Sarma; Patel; Kumari; Mandal|Mondal; Murmu; Paswan; Oraon",
    },
    "arabic": {
        "F": "Fatima|Fatma|Fatimah; Aisha|Aicha|Aïcha; Mariam|Maryam|Meriem; Amina|Aminah; Khadija|Khadidja|Khadijah; "
             "Nour|Noor|Nur; Zainab|Zaynab|Zeinab; Hana|Hanaa; Layla|Leila|Laila; Salma|Selma",
        "M": "Mohammed|Muhammad|Mohamed|Mohammad|Mouhamed; Ahmed|Ahmad; Mahmoud|Mahmud; Ali; Omar|Umar; "
             "Yousef|Youssef|Yusuf; Khaled|Khalid; Abdullah|Abdallah; Hassan|Hasan; Ibrahim|Ebrahim",
        "L": "Al-Hassan|Al Hassan|Alhassan; Abdelrahman|Abdel Rahman|Abdulrahman; Haddad; Khalil; Mansour|Mansur; "
             "Saleh|Salih; Ibrahim; Osman|Othman|Uthman; Nasser|Nasir; Hamdan",
    },
    "horn": {  # Amharic / Tigrinya transliterations; the family name is the father's given name
        "F": "Tigist|Tegist|Tigest; Selamawit|Selam; Hiwot|Hiwet; Meron; Almaz|Almaze; Tsehay|Tsehai|Tsahay; "
             "Betelhem|Bethlehem; Mulu|Mulue; Aster; Yeshi; Saba; Rahel|Rachel",
        "M": "Alemayehu|Alemayehou|Alemayew; Tesfaye|Tesfay|Tesfai; Dawit|Dawid; Getachew|Getachow; Bekele|Bekelle; "
             "Yohannes|Yohanes|Johannes; Mulugeta|Mulugheta; Haile|Hailé; Girma|Guirma; Abebe|Abebé",
        "L": "Alemayehu|Alemayehou; Tesfaye|Tesfay; Gebremedhin|Gebremedin|G/Medhin; Getachew; Bekele; "
             "Woldemariam|Wolde Mariam|W/Mariam; Haile; Girma; Abebe; Tadesse|Tadese; Kebede|Kebedde; Assefa|Asefa",
    },
    "nigerian": {
        "F": "Blessing; Joy; Precious; Favour|Favor; Gift; Mercy; Osasere|Osaseri; Chioma; Ngozi; Funmilayo|Funmi; "
             "Esohe|Esoe; Omoye",
        "M": "Emeka|Chukwuemeka; Osagie|Osaghie; Tunde|Babatunde; Chinedu|Chinnedu; Ifeanyi|Ifeany; Segun|Olusegun; "
             "Uche|Uchechukwu; Femi|Olufemi; Musa; Osaro|Osarodion; Kelechi; Ikenna",
        "L": "Okafor|Okafur; Osagie; Eze; Adeyemi|Adeyemmi; Okonkwo|Okonkow; Igbinedion|Igbinidion; "
             "Omoregie|Omoreghie; Obi; Balogun; Ogunleye; Edosa|Edosomwan; Uwadia",
    },
    "west_african": {
        "F": "Fatou|Fatoumata|Fatu; Aminata|Aminatou; Mariama|Mariam; Awa|Ava; Aïssatou|Aissatou|Aisatu; "
             "Khady|Khadi; Binta|Bintou; Ramatoulaye|Ramatulaye; Adama; Kadiatou|Kadiatu; Ndeye|Ndèye; Coumba|Kumba",
        "M": "Mamadou|Mamadu|Mohamadou; Moussa|Musa; Ibrahima|Ibrahim; Ousmane|Usman|Ousman; "
             "Abdoulaye|Abdullahi|Abdulaye; Cheikh|Sheikh; Souleymane|Suleiman|Sulaiman; Boubacar|Bubakar; "
             "Modou|Modu; Lamine|Lamin; Issa; Amadou|Ahmadu",
        "L": "Diallo|Jallow|Djalo; Ndiaye|N'Diaye|Njie; Sow|Sowe; Traoré|Traore; Ba|Bah; Diop|Jobe; Koné|Kone; "
             "Fall; Camara|Kamara; Sylla|Silla; Touré|Toure; Sanogo",
    },
    "akan": {
        "F": "Abena; Akosua; Ama; Efua|Efuah; Adwoa|Adjoa; Yaa; Afia|Afua; Akua; Esi|Essi; Mansa; Adjoa; Araba",
        "M": "Kwame|Kwami; Kofi; Kwabena|Kobina; Yaw; Kojo|Kodjo; Kwaku|Kweku; Kwesi|Kwasi; Fiifi; Ato; Nana; "
             "Kwadwo|Kwadjo; Yao",
        "L": "Mensah; Owusu; Boateng|Boatang; Asante|Ashanti; Osei; Appiah|Apiah; Agyeman|Agyemang; Addo; Ofori; "
             "Amoah; Darko; Quaye",
    },
    "east_african": {
        "F": "Wanjiru|Wanjiro; Akinyi; Achieng; Njeri; Wambui; Nafula; Mwende; Nakato; Namubiru; Atieno; Nekesa; Auma",
        "M": "Otieno; Kamau; Mwangi; Odhiambo|Odiambo; Kiprono; Ochieng|Ochien; Kibet; Waswa; Mugisha; Onyango; "
             "Kiprop; Mutua",
        "L": "Otieno; Kamau; Mwangi; Wanjiku; Ochieng; Kiprotich|Kiprotic; Omondi; Njoroge; Okello|Okelo; Mugisha; "
             "Wafula; Kariuki",
    },
    "southern_african": {
        "F": "Nomvula; Thandiwe|Thandi; Nyasha; Tendai; Chipo; Lindiwe; Rudo; Ndapewa; Palesa; Zanele; Graça|Graca; "
             "Nomsa",
        "M": "Tatenda; Tinashe; Themba; Sipho; Farai; Tendai; João|Joao; Simba; Kudakwashe|Kuda; Tjiuai; Thabo; "
             "Sizwe",
        "L": "Moyo; Ncube; Dube; Sibanda; Nkosi; Mhlanga; Chikwanha|Chikwana; Machava; Nyathi|Nyati; Shikongo; "
             "Mokoena; Cossa",
    },
    "hispanic": {
        "F": "María José|Maria Jose; Ana Lucía|Ana Lucia; Guadalupe; Yesenia|Yessenia|Jesenia; Dayana|Dayanna; "
             "Karla|Carla; Sofía|Sofia; Marisol; Yuliana|Juliana; Daniela; Rosa María|Rosa Maria; Yamileth|Yamilet",
        "M": "José Luis|Jose Luis; Juan Carlos; Luis Fernando; Jorge; Carlos; Wilmer|Wilmar; Kevin|Kelvin; "
             "Brayan|Bryan; Jhon|John; Edwin; Óscar|Oscar; Héctor|Hector",
        "L": "García|Garcia; Hernández|Hernandez; López|Lopez; Martínez|Martinez; González|Gonzalez; Pérez|Perez; "
             "Rodríguez|Rodriguez; Ramírez|Ramirez; Flores; Morales; Castillo; Gómez|Gomez",
    },
    "haitian": {
        "F": "Marie; Nadège|Nadege; Wideline|Widline; Roseline|Rosaline; Fabiola; Guerline|Gerline; Mirlande; "
             "Nathalie; Judith; Lovely; Fedeline; Sherline|Cherline",
        "M": "Jean; Wilson|Wilsen; Jean-Baptiste|Jean Baptiste; Pierre|Piere; Jacques; Ricardo; Frantz|Franz; "
             "Wisly|Wislie; Kervens|Kerven; Stevenson; Jimmy; Woodly|Woodley",
        "L": "Joseph; Pierre; Jean-Louis|Jean Louis; Louis; Charles; Saint-Fleur|St Fleur|Saint Fleur; "
             "Dorvil|Dorville; Jean-Baptiste|Jean Baptiste; Exantus|Exantis; Augustin; Désir|Desir; Thélusma|Thelusma",
    },
    "anglo": {
        "F": "Jessica; Ashley; Amanda; Brittany|Britney; Samantha; Emily; Sarah|Sara; Megan|Meghan; "
             "Stephanie|Stefanie; Nicole; Kayla; Destiny",
        "M": "Michael; Christopher; Joshua; Matthew; Daniel; David; James; Tyler; Brandon; Justin; Kyle; Cody",
        "L": "Smith; Johnson; Williams; Brown; Jones; Miller; Davis; Wilson; Anderson|Andersen; Taylor; Moore; Jackson",
    },
}

# citizenship (alpha-2) -> naming culture
CULTURE_OF: dict[str, str] = {
    "MD": "romanian", "RO": "romanian", "UA": "slavic", "RU": "slavic", "BY": "slavic", "KZ": "central_asian",
    "KG": "central_asian", "UZ": "central_asian", "TJ": "central_asian", "AL": "albanian", "GE": "caucasian",
    "TH": "thai", "KH": "khmer", "MM": "burmese", "LA": "lao", "VN": "vietnamese", "ID": "indonesian",
    "MY": "indonesian", "PH": "filipino", "NP": "nepali", "BD": "bengali", "IN": "indian", "SY": "arabic",
    "LY": "arabic", "EG": "arabic", "SD": "arabic", "SA": "arabic", "AE": "arabic", "LB": "arabic", "YE": "arabic",
    "DZ": "arabic", "MA": "arabic", "ET": "horn", "ER": "horn", "SO": "horn", "DJ": "horn", "NG": "nigerian",
    "BJ": "west_african", "NE": "west_african", "SN": "west_african", "ML": "west_african", "GM": "west_african",
    "GH": "akan", "KE": "east_african", "UG": "east_african", "ZW": "southern_african", "MZ": "southern_african",
    "NA": "southern_african", "ZA": "southern_african", "GT": "hispanic", "HN": "hispanic", "SV": "hispanic",
    "MX": "hispanic", "CO": "hispanic", "VE": "hispanic", "DO": "hispanic", "ES": "hispanic", "HT": "haitian",
    "US": "anglo", "GB": "anglo", "AU": "anglo", "JP": "anglo", "IT": "anglo", "DE": "anglo", "PL": "slavic",
    "TR": "arabic", "CN": "vietnamese",
}
CULTURES: tuple[str, ...] = tuple(sorted(_G))
# Cultures whose names are commonly written family name first.
FAMILY_FIRST = {"vietnamese", "khmer"}
# Share of people with a single name (no family name).
MONONYM = {"burmese": 1.0, "indonesian": 0.25}
# Share with a second family name (Spanish-style double surname).
DOUBLE_SURNAME = {"hispanic": 0.6}


def _entries(spec: str) -> list[list[str]]:
    out = []
    for raw in spec.split(";"):
        raw = raw.strip()
        if not raw:
            continue
        variants = [v.strip() for v in raw.split("|") if v.strip()]
        seen: list[str] = []
        for v in variants + [ascii_fold(v) for v in variants]:
            if v not in seen:
                seen.append(v)
        out.append(seen)
    return out


@dataclass(frozen=True)
class Pool:
    """Flat string pool: entry e of (culture, kind) has spellings flat[start[e] : start[e] + nvar[e]]."""

    flat: tuple[str, ...]
    start: np.ndarray  # int32, per global entry
    nvar: np.ndarray  # int32
    base: dict[tuple[str, str], tuple[int, int]]  # (culture, kind) -> (first global entry, count)
    head: dict[tuple[str, str], int]  # (culture, kind) -> entries of the head (common names; the tail follows)


@cache
def pool() -> Pool:
    """kinds: F, M (given names), L (family names, male form), LF (family names, female form).
    Per (culture, kind): the head entries of `_G`, then the tail of `name_tails` (entries already in
    the head, or twice in the tail, are left out)."""
    flat: list[str] = []
    start: list[int] = []
    nvar: list[int] = []
    base: dict[tuple[str, str], tuple[int, int]] = {}
    head: dict[tuple[str, str], int] = {}
    for culture in CULTURES:
        spec = _G[culture]
        for kind in ("F", "M", "L", "LF"):
            src = spec["L"] if kind == "LF" else spec[kind]
            ents = _entries(src)
            head[(culture, kind)] = len(ents)
            seen = {ascii_fold(v).casefold() for e in ents for v in e}
            for e in _entries(tail_spec(culture, "L" if kind == "LF" else kind)):
                if ascii_fold(e[0]).casefold() not in seen:
                    seen.add(ascii_fold(e[0]).casefold())
                    ents.append(e)
            first = len(start)
            for variants in ents:
                if kind in ("L", "LF"):
                    variants = [
                        (v[:-1] + "a" if kind == "LF" else v[:-1]) if v.endswith("*") else v for v in variants
                    ]
                    dedup: list[str] = []
                    for v in variants:
                        if v not in dedup:
                            dedup.append(v)
                    variants = dedup
                start.append(len(flat))
                nvar.append(len(variants))
                flat.extend(variants)
            base[(culture, kind)] = (first, len(ents))
    return Pool(tuple(flat), np.array(start, dtype=np.int32), np.array(nvar, dtype=np.int32), base, head)


def draw(rng: np.random.Generator, culture: str, kind: str, k: int) -> np.ndarray:
    """k global entries of (culture, kind): a head (common) name for `head_share` of them, else a
    tail name, uniform within each."""
    p = pool()
    first, cnt = p.base[(culture, kind)]
    nh = p.head[(culture, kind)]
    if cnt == nh:
        return first + rng.integers(0, cnt, size=k)
    in_head = rng.random(k) < head_share(culture, "L" if kind == "LF" else kind)
    h = rng.integers(0, nh, size=k)
    t = nh + rng.integers(0, cnt - nh, size=k)
    return first + np.where(in_head, h, t)


@cache
def flat_strings(encoding: str) -> tuple[str, ...]:
    """The flat pool as written by an era: 'utf-8' as is, 'cp1252' folded as the legacy module did."""
    p = pool()
    if encoding == "cp1252":
        return tuple(cp1252_fold(s) for s in p.flat)
    return p.flat


def typo(s: str, r: int) -> str:
    """A deterministic typing error in `s`, chosen by the integer `r`."""
    if len(s) < 3:
        return s + s[-1:]
    i = 1 + r % (len(s) - 2)
    op = (r >> 8) % 4
    if op == 0:  # swap two letters
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if op == 1:  # drop a letter
        return s[:i] + s[i + 1 :]
    if op == 2:  # double a letter
        return s[: i + 1] + s[i] + s[i + 1 :]
    vowels = "aeiou"
    ch = s[i]
    rep = vowels[(vowels.find(ch.lower()) + 1) % 5] if ch.lower() in vowels else ch + "h"
    return s[:i] + rep + s[i + 1 :]


# Interviewers and staff: drawn from the mission country's culture.
STAFF_CULTURE = {m: CULTURE_OF.get(m, "anglo") for m in CULTURE_OF}
