"""The long tail of each naming culture's names, so that namesakes are about as rare as in life.

`names.py` holds the common names (the head), with the spellings other missions write. With only
those, ~35 % of persons shared their full name and birth year with another person (a population of
20 given names and 20 surnames per culture): a linkage benchmark on such data measures the pools,
not the linker. Here, per culture and kind (F, M given names; L surnames), a tail of less common
names, either listed ("Name|Variant; …", as in `names.py`) or composed the way the culture composes
them: ``(parts, parts, …, separator)`` gives every combination of one word of each parts list,
joined by the separator, "-" standing for no word (Slavic Koval+enko, Burmese Aung Kyaw Oo,
Javanese Su+yanto). A trailing "*" marks a gendered surname, as in `names.py`. Tails carry few
variant spellings (mostly the ASCII-folded one): the transliteration variants live in the head, and
`HEAD_SHARE` of the persons take a head name. With the tails, ~3 % of persons share their name and
birth year with someone else (a test keeps it under 5 %).

All names are invented combinations of common name parts: no real person.
"""

from __future__ import annotations

import itertools

# share of persons whose name of a kind comes from the head (common names), where a tail exists
HEAD_SHARE = {"F": 0.4, "M": 0.4, "L": 0.3}
HEAD_SHARE_OF = {"burmese": {"F": 0.05, "M": 0.05}}  # one name only: a short head would repeat a lot

TAILS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "romanian": {
        "F": "Svetlana; Galina; Mariana; Veronica; Inga; Diana; Ecaterina|Ekaterina; Raisa; Zinaida; Nina; "
             "Larisa; Silvia; Rodica; Lucia; Eugenia; Stela; Marina; Oxana|Oksana; Aliona|Alyona; Vera; "
             "Daniela; Adriana; Iulia|Yulia; Carolina",
        "M": "Valeriu; Vitalie|Vitali; Oleg; Veaceslav|Vyacheslav; Eugen; Ruslan; Anatolie|Anatoli; "
             "Iurie|Yuri; Grigore; Tudor; Vadim; Dorin; Radu; Marin; Valentin; Pavel; Artur; Denis; Maxim; "
             "Cristian; Octavian; Emil; Liviu; Florin",
        "L": ("Pop Ion Munt Cojoc Rot Lung Ciob Bal Mor Dumitr Stan Gheorgh Vasil Nistor Marin Tudor Rad Petr "
              "Grigor Opr Andr Stoic Dobr Moc Bogd Chiric Sav Lup Cazac Bors Cret Iftod Leah Bran Cern Dan Olar "
              "Pasc Rusn Tan", "escu eanu aru ache an uc ici", ""),
    },
    "slavic": {
        "F": "Valentyna|Valentina; Larysa|Larisa; Nadiia|Nadezhda; Inna; Alla; Zhanna; Lesia|Lesya; Marina; "
             "Vira|Vera; Lilia|Liliya; Nina; Raisa; Hanna|Anna; Khrystyna|Kristina; Polina; Sofiia|Sofia; "
             "Valeriia|Valeria; Yana; Uliana|Ulyana; Kseniia|Ksenia; Alina; Diana; Taisiia|Taisia; Zoia|Zoya",
        "M": "Vasyl|Vasily; Petro|Pyotr; Ivan; Taras; Bohdan|Bogdan; Roman; Viktor; Anatolii|Anatoly; "
             "Hryhorii|Grigory; Stepan; Vadym|Vadim; Yevhen|Evgeny; Ruslan; Artem|Artyom; Denys|Denis; "
             "Valerii|Valery; Kostiantyn|Konstantin; Mykhailo|Mikhail; Fedir|Fyodor; Leonid; Borys|Boris; "
             "Eduard; Arsen; Yaroslav",
        "L": ("Ivan Petr Pavl Sydor Koval Bondar Tkach Moroz Hnat Lys Dem Fed Hryts Mart Sav Kost Lev Kushn Rud "
              "Yakov Kharch Step Vasyl Mykh Oles Tym Zakh Prokop Nazar Osyp Hord Kyr Luk Mazur Panch Semen Tar Zin "
              "Yurch Bab", "enko chuk iuk yk ov* in* ets ak", ""),
    },
    "central_asian": {
        "F": "Dildora; Mohira; Sevara; Nilufar; Umida; Kamila; Gulchehra; Zulfiya; Mukhabbat; Nargiza; "
             "Dinara; Aliya; Saltanat; Zhanar; Gulmira; Ainura; Nazgul; Cholpon; Mairam; Aisuluu; Elmira; "
             "Laylo; Munisa; Barno",
        "M": "Alisher; Sardor; Jasur; Otabek; Bobur; Sanjar; Shukhrat; Anvar; Ravshan; Akmal; Ilkhom; Kairat; "
             "Yerlan; Daniyar; Askar; Bolat; Marat; Ruslan; Almaz; Adilet; Ermek; Talant; Nursultan; Bakyt",
        "L": ("Karim Rakhim Yusup Nazar Abdull Mamat Sadyk Ismoil Nurmat Toktogul Bek Zhumab Tursun Ergash Usmon "
              "Rashid Alim Kadyr Umar Khamid Sultan Akhmed Yuldash Sharip Tash Ibragim Mirz Saf Azim Olim Nasr "
              "Kasym Erkin Baktyb Dzhum", "ov* bekov* jonov* kulov* baev*", ""),
    },
    "albanian": {
        "F": "Alketa; Anjeza; Besa; Drita; Entela; Fatjona; Gentiana; Hana; Ilda; Jetmira; Lindita; Manjola; "
             "Nertila; Orjeta; Rezarta; Suela; Teuta; Vjollca; Xhensila; Zamira",
        "M": "Altin; Bledar; Klodian; Dashamir; Edmond; Florian; Gazmend; Hysen; Indrit; Jetmir; Klajdi; "
             "Luan; Mentor; Naim; Olsi; Petrit; Redon; Sokol; Taulant; Valon",
        "L": ("Bardh Berish Krasniq Gash Hys Kelmend Morin Bytyq Shal Dushk Met Lik Ram Muc Hasan Xhafer Hot Dem "
              "Duk Topall Kuk Taf Zenel Ndre Pjetr Gjon Lul Dibr Mark Nik Ball Cak Dod Gjer Kraj", "i aj a ku", ""),
    },
    "thai": {
        "F": "Kanokwan; Sasithorn; Jiraporn; Warunee; Chanida; Pimchanok; Naruemon; Kannika; Sumalee; "
             "Thitima; Orawan; Patcharee; Rungnapa; Yupin; Nittaya; Arunee; Bussaba; Sukanya; Wipada; Lamai",
        "M": "Somboon; Wirat; Sakda; Apichart; Chatchai; Nattapong; Pongsak; Suriya; Thanakorn; Wanchai; "
             "Yuttana; Anucha; Boonlert; Manop; Pichit; Prayut; Sompong; Supachai; Tawatchai; Weerapong",
        "L": ("Sri Chai Boon Kaew Thong Suk Wong Saen Phrom Rat Chan Kham Sang Duang Som Intha Phet Siri Ngam Rung",
              "suk wong sawat porn mee thong chai sri rat phan kul siri wan dee tham kasem", ""),
    },
    "lao": {
        "F": "Somchanh; Vanhnakhone; Phonevilay; Malaythong; Sengdao; Viengkham; Chanthavy; Khampheng; "
             "Souphaphone; Bouaphanh; Daovone; Nouphone; Siphone; Thipphavanh; Vongdeuan; Ketsana; Phaivanh; "
             "Soudalay; Amphone; Kongkeo",
        "M": "Khamsing; Bounleuth; Phoutthasone; Sisouk; Thongphanh; Vilaysack; Kongsy; Southanh; Saysana; "
             "Anousone; Chanthaboun; Bounpheng; Outhay; Sengsouly; Phonxay; Khamphouvanh; Vannasinh; "
             "Xaysomphone; Bouasavanh; Somphou",
        "L": ("Phomma Saya Keo Inthi Souvanna Phimma Seng Chantha Douang Sisou Boun Khamma Vila Sitha Somma Phet",
              "vong chanh many sone souk sack lath phanh vanh xay kham deth", ""),
    },
    "khmer": {
        "F": "Sreypov; Sreynich; Chenda; Dalin; Kunthea; Mealea; Nary; Pisey; Rachana; Sokunthea; Somaly; "
             "Sovanna; Theary; Vanny; Voleak; Phalla; Socheata; Sreyroth; Bopharath; Kanha",
        "M": "Bunna; Chanthou; Kosal; Makara; Narith; Pheakdey; Ratanak; Sambath; Sopheak; Vannak; Veasna; "
             "Vichet; Sophorn; Chamroeun; Sovannarith; Kimsan; Sokheng; Vibol; Sothea; Panha",
        "L": "Hun; Sam; Nhem; Ouk; Sun; Touch; Yim; Mao; Pen; Tep; Thach; Ros; Long; Phan; Chhim; Kong; Sar; Yin; "
             "Hem; Em; Chhay; Noun; Tan; Lim; Nuon; Vong; Phal; Van; Khiev; Nhim; Ung; Tith; Mom; Chim; Seang; "
             "Hang; Srun; Mam; Pov; Sao",
    },
    "burmese": {
        "F": ("Aye Khin Su May Hnin Ei Moe Zin Myat Thiri Yadanar Sandar Nwe Cho Thin Wai Phyu Hla",
              "Mon Win Hlaing Thu Wai Phyo Khaing Mar Oo Noe Htwe Yin Kyi Thet Zar Lwin Myint Nwe",
              "- Oo Win Aung Myint Lwin Nwe Htet Kyaw Thu", " "),
        "M": ("Aung Kyaw Zin Htet Min Zaw Thet Soe Ko Myo Hein Khant Kaung Thura Yan Pyae Sithu Nay",
              "Oo Htet Tun Win Naing Aung Lin Thant Htun Myint Zaw Kyaw Lwin Soe Min Paing Hein Moe",
              "- Oo Aung Naing Htet Lin Tun Zaw Kyaw", " "),
    },
    "vietnamese": {
        "F": ("Thị Ngọc Thu Thanh Kim Phương Minh Hồng Bích Mỹ",
              "Hương Lan Mai Hoa Anh Trang Hằng Nga Linh Phương Thảo Yến Hà Nhung Huyền Dung Loan Tuyết Vân Hạnh",
              " "),
        "M": ("Văn Đức Minh Quang Thành Hữu Đình Công Xuân Ngọc",
              "Hùng Nam Anh Tuấn Long Huy Dũng Phước Tài Thắng Khoa Hải Sơn Tùng Cường Quân Bình Trung Hiếu Tâm", " "),
        "L": "Hồ; Dương; Lý; Trịnh; Đinh; Mai; Cao; Lưu; Phan; Trương; Tô; Hà; Lâm; Tạ; Châu; Quách",
    },
    "indonesian": {
        "F": ("Su Tri Dwi Sri Har Mul Sar Wid", "yati warni lastri marni ningsih wati tinah yani", ""),
        "M": ("Su Tri Dwi Har Mul Sut Wid Sus Sar Pur", "yanto harto parno jono wanto yono tono rahmat", ""),
        "L": ("Su Tri Dwi Har Mul Sut Wid Sus Sar Pur", "yanto harto parno jono wanto yono tono rahmat", ""),
    },
    "filipino": {
        "F": "Angelica; Kristine; Mary Joy; Michelle; Joanna; Princess; Charmaine; Arlene; Marilou; Cherry; "
             "Lovely; Janet; Evelyn; Rosemarie; Gemma; Aileen; Shiela; Lea; Divina; Editha",
        "M": "Jonathan; Ronald; Rommel; Arnel; Jayson; Michael; Joel; Renato; Danilo; Ernesto; Virgilio; "
             "Noel; Rey; Edwin; Jun; Randy; Rodrigo; Alvin; Christian; Dennis",
        "L": "Aguilar; Alvarez; Andrada; Aragon; Bernardo; Cabrera; Cortez; Cruz; Dizon; Domingo; Espiritu; "
             "Fernandez; Francisco; Gutierrez; Ignacio; Jimenez; Lopez; Lim; Macaraeg; Manalo; Marquez; Navarro; "
             "Ocampo; Pascual; Perez; Quizon; Rivera; Rosales; Salazar; Salvador; Soriano; Tolentino; Torres; "
             "Valdez; Vergara; Yap; Zamora; Agustin; Manalastas; Pangilinan; Dimaculangan; Mercado; Santiago; "
             "Panganiban; Evangelista; Sison; Tan; Sy; Ong; Buenaventura; Santillan; Lagman; Alcantara; Miranda; "
             "Morales; Padilla; Pineda; Robles; Samonte; Tamayo; Umali; Velasco; Villareal",
    },
    "hispanic": {
        "F": "Gabriela; Valeria; Fernanda; Andrea; Paola; Alejandra; Mariana; Jimena; Lucía; Camila; "
             "Esmeralda; Wendy; Heidy; Nancy; Glenda; Brenda; Katherine; Leidy; Milagros; Rocío; Paula; "
             "Natalia; Isabel; Carmen",
        "M": "Miguel Ángel; Francisco; Manuel; José Antonio; Pedro; Fernando; Ricardo; Eduardo; Alejandro; "
             "Mario; Roberto; Ángel; Cristian; Jonathan; Erick; Elvis; Darwin; Henry; Walter; Marvin; Nelson; "
             "Santiago; Andrés; Diego",
        "L": "Sánchez; Ramos; Cruz; Reyes; Díaz; Torres; Rivera; Ruiz; Mendoza; Vargas; Castro; Ortiz; Jiménez; "
             "Moreno; Romero; Herrera; Medina; Aguilar; Vásquez|Vazquez; Rojas; Guzmán; Muñoz; Álvarez; Mejía; "
             "Salazar; Contreras; Domínguez; Chávez; Cabrera; Sandoval; Rosales; Fuentes; Cardona; Pineda; Ríos; "
             "Estrada; Orellana; Figueroa; Cortés; Velásquez; Aguirre; Méndez; Ortega; Gutiérrez; Núñez; Suárez; "
             "Benítez; Acosta; Molina; Paz; Zelaya; Osorio; Cáceres; Barrios; Soto; Valdez; Santos; Carrillo; "
             "Escobar; Galeano",
    },
    "nepali": {
        "F": "Bimala; Durga; Goma; Januka; Kalpana; Manju; Nirmala; Parbati; Ranjana; Sangita; Sushila; Tara; "
             "Usha; Bishnu Maya; Dil Maya; Hira; Mina; Pabitra; Rekha; Shanti",
        "M": "Bikram; Dil Bahadur; Ganesh; Gopal; Kamal; Kiran; Madan; Min Bahadur; Narayan; Purna; Rajendra; "
             "Sanjay; Shyam; Sunil; Tek Bahadur; Umesh; Yam; Bal Krishna; Govinda; Lok Bahadur",
        "L": "Basnet; Bhandari; Bhattarai; Chhetri; Dahal; Ghimire; Gautam; Khatri; Koirala; Maharjan; Pandey; "
             "Pokharel; Poudel; Regmi; Sapkota; Subedi; Thakuri; Bhujel; Limbu; Sunuwar; Pariyar; Nepali; Dhakal; "
             "Aryal; Bista; Budha; Chaudhary; Giri; Joshi; Kafle; Lamichhane; Mahat; Neupane; Ojha; Pant; Rijal; "
             "Rokaya; Shahi; Shah; Sharma; Thapaliya; Timalsina; Upreti; Wagle; Yadav; Acharya; Baral; Bohara",
    },
    "bengali": {
        "F": "Nasima; Rokshana; Hasina; Parvin; Shapla; Mousumi; Sharmin; Farzana; Sabina; Ruma; Shilpi; "
             "Tania; Nargis; Jesmin; Afroza; Kulsum; Nazma; Rashida; Mahmuda; Shahnaz",
        "M": "Rafiqul; Shafiqul; Aminul; Mizanur; Habibur; Mahbubur; Ashraful; Nazrul; Saiful; Shahidul; "
             "Jahangir; Monirul; Rezaul; Anisur; Kamrul; Sirajul; Abul; Shamsul; Zahirul; Tariqul",
        "L": "Chowdhury; Talukder; Bhuiyan; Molla; Howlader; Sikder; Khan; Mridha; Biswas; Das; Roy; Paul; Ghosh; "
             "Dey; Saha; Barua; Chakma; Munshi; Majumder; Patwary; Kazi; Pramanik; Fakir; Sardar; Gazi; Bepari; "
             "Matubbar; Dewan; Hasan; Alam; Karim; Siddique; Haque; Kabir; Rashid; Mahmud; Ali",
    },
    "indian": {
        "F": "Sushma; Asha; Neha; Ritu; Suman; Poonam; Kiran; Usha; Mamta; Seema; Nisha; Rani; Jyoti; "
             "Sangeeta; Sarita; Babita; Manju; Anita; Reena; Parvati",
        "M": "Deepak; Amit; Rajesh; Sanjay; Ajay; Vinod; Ashok; Dinesh; Mukesh; Pankaj; Rahul; Sachin; "
             "Naresh; Dilip; Birsa; Sukra; Mangal; Budhu; Somra; Gopal",
        "L": "Gupta; Verma; Mishra; Chauhan; Thakur; Rajput; Jha; Tiwari; Dubey; Shukla; Reddy; Rao; Nair; Pillai; "
             "Iyer; Menon; Naidu; Gowda; Hegde; Shetty; Bose; Chatterjee; Banerjee; Mukherjee; Ghosh; Roy; Sen; "
             "Dutta; Sahu; Mahato; Hansda; Soren; Tudu; Kisku; Hembrom; Marandi; Munda; Toppo; Ekka; Kujur; Lakra; "
             "Tirkey; Minz; Bara; Meena; Bhil",
    },
    "horn": {
        "F": "Hirut; Meseret; Tsion; Bezawit; Eden; Feven; Helen; Kidist; Lemlem; Mahlet; Rahwa; Ruth; "
             "Senait; Tirhas; Winta; Yordanos; Azeb; Genet; Mekdes; Sara",
        "M": "Amanuel; Biniam; Daniel; Ermias; Filmon; Habtom; Kidane; Merhawi; Mikael; Natnael; Samuel; "
             "Tewelde; Yonas; Yared; Abel; Berhane; Fitsum; Henok; Solomon; Teklu",
        "L": ("Gebre Wolde Haile Tekle Kidane Habte Fikre Berhane Zere Tesfa Asfa",
              "medhin mariam selassie michael yesus kidan hiwot giorgis tsadik gabriel amlak", ""),
    },
    "nigerian": {
        "F": "Adaeze; Amaka; Chidinma; Ebere; Ifeoma; Nneka; Obiageli; Uju; Adesuwa; Ivie; Itohan; Oghogho; "
             "Eki; Folake; Yetunde; Bukola; Kemi; Titilayo; Aisha; Hauwa; Zainab; Patience; Faith; Peace",
        "M": "Chinonso; Obinna; Nnamdi; Chibuzor; Tochukwu; Ikechukwu; Nosa; Efosa; Eghosa; Osamudiamen; "
             "Omoruyi; Adewale; Adebayo; Kunle; Oluwaseun; Tobi; Ibrahim; Abubakar; Sani; Usman; Godwin; "
             "Samuel; Daniel; Friday",
        "L": ("Ade Olu Oluwa Ogun Chukwu Nwa Obi Osa Eze Ige Ola Afo Iwe Ayo Ibe Oke",
              "yemi wale tunde femi emeka nna gie kwe diegwu lade sanya kanmi buike koya", ""),
    },
    "west_african": {
        "F": "Astou; Dieynaba; Fatimata; Oumou; Rokhaya; Safiatou; Sokhna; Yacine; Nafissatou; Kadidia; Hawa; "
             "Djeneba; Assitan; Salimata; Maimouna; Isatou; Haddy; Jainaba; Mame Diarra; Penda",
        "M": "Alioune; Babacar; Bakary; Demba; Djibril; El Hadji; Fodé; Habib; Ismaïla; Malick; Ousseynou; "
             "Pape; Sidy; Yaya; Seydou; Alhagie; Ebrima; Momodou; Bubacarr; Saliou",
        "L": "Sarr; Ndour; Gueye; Faye; Mbaye; Seck; Diouf; Cissé; Sall; Dieng; Niang; Thiam; Kane; Coulibaly; "
             "Keïta; Sissoko; Diarra; Konaté; Ouédraogo; Sawadogo; Barry; Baldé; Bangura; Conteh; Jalloh; Sesay; "
             "Fofana; Doumbia; Sangaré; Dembélé; Sidibé; Tall; Wade; Mané; Badji; Sonko; Cham; Ceesay; Darboe; "
             "Touray; Jammeh; Manneh; Sanneh; Drammeh; Bojang; Jatta; Gassama; Sakho",
    },
    "akan": {
        "F": "Serwaa; Dufie; Nhyira; Gifty; Comfort; Mavis; Vida; Rita; Patience; Juliana; Linda; Priscilla; "
             "Joyce; Agnes; Beatrice; Eunice; Mercy; Grace; Doris; Naomi",
        "M": "Emmanuel; Isaac; Samuel; Prince; Ebenezer; Richard; Eric; Francis; Joseph; George; Kingsley; "
             "Michael; Stephen; Daniel; Bernard; Collins; Felix; Frank; Gideon; Alex",
        "L": "Acheampong; Adjei; Agyei; Amponsah; Ansah; Antwi; Asamoah; Asare; Baah; Bonsu; Danso; Frimpong; "
             "Gyamfi; Kyei; Manu; Nkrumah; Obeng; Oppong; Opoku; Sarpong; Tetteh; Wiredu; Yeboah; Amankwah; "
             "Adomako; Boakye; Donkor; Fosu; Kusi; Kwarteng; Nyarko; Ofosu; Poku; Sarfo; Takyi; Twum; Adu; "
             "Afriyie; Ampofo; Annan; Badu; Dapaah; Effah; Kumi; Nimo; Quansah",
    },
    "east_african": {
        "F": "Faith; Mercy; Grace; Esther; Lucy; Mary; Jane; Caroline; Nancy; Ann; Winnie; Sarah; Beatrice; "
             "Scovia; Prossy; Harriet; Brenda; Florence; Irene; Joyce",
        "M": "Brian; Dennis; Kevin; Peter; John; James; Joseph; Samuel; David; Collins; Geoffrey; Patrick; "
             "Moses; Isaac; Ronald; Emmanuel; Godfrey; Robert; Stephen; Vincent",
        "L": "Wambua; Kipchumba; Cheruiyot; Kiplagat; Rotich; Langat; Koech; Kirui; Ngugi; Kimani; Maina; Njenga; "
             "Githinji; Wekesa; Barasa; Simiyu; Wanyama; Okoth; Owino; Ouma; Odera; Nyongesa; Mutiso; Musyoka; "
             "Kilonzo; Mwaura; Macharia; Gitau; Chege; Ssempala; Mukasa; Kato; Nsubuga; Lubega; Ssali; "
             "Byaruhanga; Tumusiime; Okot; Opio; Ocen; Odongo",
    },
    "southern_african": {
        "F": "Precious; Tsitsi; Rumbidzai; Fadzai; Nokuthula; Thandeka; Busisiwe; Lerato; Mpho; Naledi; "
             "Tumelo; Zodwa; Ndeshi; Ndinelao; Selma; Aina; Fátima; Ana; Esperança; Lúcia",
        "M": "Blessing; Tafadzwa; Tonderai; Munyaradzi; Takudzwa; Sibusiso; Mandla; Bongani; Lwazi; Tshepo; "
             "Kagiso; Lebogang; Petrus; Johannes; Martin; Carlos; Manuel; Armando; Fernando; Abel",
        "L": "Dlamini; Khumalo; Zulu; Ndlovu; Mahlangu; Mabaso; Mthembu; Shabalala; Ngcobo; Zwane; Mkhize; Cele; "
             "Radebe; Molefe; Mofokeng; Nkomo; Chikore; Mupfumi; Mutasa; Chirwa; Banda; Phiri; Tembo; Mwale; "
             "Chauke; Baloyi; Maluleke; Mathebula; Mudau; Nghidinwa; Amutenya; Haufiku; Nangolo; Shilongo; "
             "Iipinge; Mabunda; Sitoe; Nhantumbo; Cumbe; Tivane",
    },
    "haitian": {
        "F": "Chantal; Darline; Esther; Fabienne; Gina; Islande; Jesula; Lourdie; Magalie; Medgine; Myrlande; "
             "Natacha; Roselaure; Sandra; Tamara; Vanessa; Wislande; Yveline; Dieula; Mirline",
        "M": "Alix; Claudy; Daniel; Emmanuel; Fritz; Gérald; Herns; Jameson; Jean-Robert; Junior; Lesly; "
             "Michelet; Ronald; Samuel; Smith; Vladimir; Wilner; Yves; Patrick; Rodney",
        "L": "Célestin; Pierre-Louis; François; Bélizaire; Estimé; Fleurant; Georges; Hyppolite; Innocent; Jeune; "
             "Laguerre; Lamour; Lafortune; Métellus; Michel; Noël; Paul; Petit-Frère; Philippe; Prophète; Rémy; "
             "Saintil; Sylvain; Toussaint; Valcourt; Vilsaint; Alexis; Baptiste; Bien-Aimé; Casimir; Cadet; "
             "Dérisier; Dorsainvil; Étienne; Félix; Guillaume; Jacques; Jeanty; Jules; Lubin; Mérilien; Moïse; "
             "Nicolas; Octave; Pierrelus; Prévilus; Siméon; Thermidor; Zéphir",
    },
}


def tail_spec(culture: str, kind: str) -> str:
    """The tail of (culture, kind) as a `names.py` entry string ("" when none)."""
    spec = TAILS.get(culture, {}).get(kind, "")
    if isinstance(spec, str):
        return spec
    *parts, sep = spec
    names = [sep.join(w for w in combo if w != "-") for combo in itertools.product(*(p.split() for p in parts))]
    return "; ".join(dict.fromkeys(names))


def head_share(culture: str, kind: str) -> float:
    return HEAD_SHARE_OF.get(culture, {}).get(kind, HEAD_SHARE[kind])
